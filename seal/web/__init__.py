"""HTTP faces of the seal service: the integrator API and the pages."""
