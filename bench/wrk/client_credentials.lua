-- wrk script: OAuth 2.0 client_credentials grant against a token endpoint.
--
--   wrk -t2 -c16 -d10s -s client_credentials.lua <token-endpoint-url> -- "<Basic header value>" [scope]
--
-- The URL's path is the token endpoint (read from discovery by run.sh). The first script
-- argument is the complete Authorization header value ("Basic base64(id:secret)"), so that the
-- script does no encoding of its own. Every response is checked: anything but a 2xx counts as an
-- error, and done() prints one line "BENCH_RESULT {json}" that run.sh reads.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count - 1)
  table.insert(threads, thread)
end

local req
ok_count = 0
bad_count = 0
first_bad = ""

function init(args)
  local auth = args[1]
  local scope = args[2] or "api"
  if not auth or auth == "" then
    error("client_credentials.lua: missing Authorization header argument")
  end
  local body = "grant_type=client_credentials&scope=" .. scope
  req = wrk.format("POST", wrk.path, {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }, body)
end

function request()
  return req
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok_count = ok_count + 1
  else
    bad_count = bad_count + 1
    if first_bad == "" then
      first_bad = tostring(status) .. " " .. string.sub(body or "", 1, 200)
    end
  end
end

local function json_string(s)
  s = string.gsub(s, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end)
  return '"' .. s .. '"'
end

function done(summary, latency, requests)
  local ok, bad, sample = 0, 0, ""
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok_count") or 0)
    bad = bad + (t:get("bad_count") or 0)
    local fb = t:get("first_bad") or ""
    if sample == "" and fb ~= "" then sample = fb end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"scenario":"client_credentials","requests":%d,"duration_us":%d,' ..
    '"rps":%.2f,"ok":%d,"non_2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d},"codes_exhausted":false,"latency_us":{"mean":%.1f,"p50":%d,"p99":%d,' ..
    '"max":%d},"first_error":%s}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    ok, bad, e.connect, e.read, e.write, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(99), latency.max,
    json_string(sample)))
end
