"""Market entities (§6.3.1): one registration for every company, institution and person.

`models` holds the tables, `pii` the sealing and blind indexing of personal data, `service` the
registration and life cycle, `cli` the operators' `huren entity` group.
"""
