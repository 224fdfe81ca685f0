-- wrk script: authorization_code + PKCE exchange at a token endpoint, one fresh code per request.
--
--   wrk -t2 -c16 -d10s -s code_exchange.lua <token-endpoint-url> -- \
--       "<Basic header value>" <codes-file> <redirect_uri> <code_verifier> <threads>
--
-- <threads> must equal wrk's -t: wrk runs each thread's init() before it sets up the next thread,
-- so a thread cannot learn the total from setup().
-- <codes-file> holds pre-minted, unused authorization codes, one per line. Line i (0-based) goes
-- to wrk thread (i mod threads) only, and each thread hands its codes out in order, so no code is
-- sent twice. A thread that runs out of codes marks the run as exhausted (run.sh then reports it
-- invalid), stops, and sends one last request with a dummy code. Anything but a 2xx counts as an
-- error; done() prints one line "BENCH_RESULT {json}" that run.sh reads.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_index", thread_count - 1)
  table.insert(threads, thread)
end

local reqs = {}
local next_req = 1
local exhausted_req
ok_count = 0
bad_count = 0
sent_count = 0
code_count = 0
exhausted = false
first_bad = ""

local function urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  local auth, file, redirect_uri, verifier = args[1], args[2], args[3], args[4]
  local nthreads = tonumber(args[5] or "")
  if not (auth and file and redirect_uri and verifier and nthreads) then
    error("code_exchange.lua: arguments are <Basic header> <codes-file> <redirect_uri> " ..
      "<verifier> <threads>")
  end
  if thread_index >= nthreads then
    error("code_exchange.lua: <threads> is smaller than wrk -t")
  end
  local headers = {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
  local tail = "&redirect_uri=" .. urlencode(redirect_uri) .. "&code_verifier=" .. urlencode(verifier)
  local f = assert(io.open(file, "r"))
  local i = 0
  for line in f:lines() do
    local code = string.gsub(line, "%s+", "")
    if code ~= "" then
      if i % nthreads == thread_index then
        local body = "grant_type=authorization_code&code=" .. urlencode(code) .. tail
        table.insert(reqs, wrk.format("POST", wrk.path, headers, body))
      end
      i = i + 1
    end
  end
  f:close()
  code_count = #reqs
  exhausted_req = wrk.format("POST", wrk.path, headers,
    "grant_type=authorization_code&code=bench-codes-exhausted" .. tail)
end

function request()
  local r = reqs[next_req]
  if r == nil then
    if not exhausted then
      exhausted = true
      wrk.thread:stop()
    end
    return exhausted_req
  end
  reqs[next_req] = nil
  next_req = next_req + 1
  sent_count = sent_count + 1
  return r
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
  local ok, bad, sent, codes, sample, ex = 0, 0, 0, 0, "", false
  for _, t in ipairs(threads) do
    ok = ok + (t:get("ok_count") or 0)
    bad = bad + (t:get("bad_count") or 0)
    sent = sent + (t:get("sent_count") or 0)
    codes = codes + (t:get("code_count") or 0)
    ex = ex or (t:get("exhausted") == true)
    local fb = t:get("first_bad") or ""
    if sample == "" and fb ~= "" then sample = fb end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"scenario":"code_exchange","requests":%d,"duration_us":%d,' ..
    '"rps":%.2f,"ok":%d,"non_2xx":%d,"socket_errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d},"codes_exhausted":%s,"codes_loaded":%d,"codes_sent":%d,' ..
    '"latency_us":{"mean":%.1f,"p50":%d,"p99":%d,"max":%d},"first_error":%s}\n',
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    ok, bad, e.connect, e.read, e.write, e.timeout, tostring(ex), codes, sent,
    latency.mean, latency:percentile(50), latency:percentile(99), latency.max,
    json_string(sample)))
end
