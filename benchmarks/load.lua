-- wrk script for benchmarks/load.py: one scenario, described by BENCH_* environment variables.
--
--   BENCH_HOST      Host header (the portal's public host name)
--   BENCH_PATHS     file of request paths, one a line, taken in turn
--   BENCH_EXPECT    the status every response must have (others are counted as unexpected)
--   BENCH_CHECK     1: look at each response's status (wrk then reads bodies into Lua, so
--                   the 5 MB download leaves it off and relies on wrk's own >= 400 count)
--   BENCH_COOKIE    Cookie header (CSRF cookie, or the agent's session)
--   BENCH_BODY      "" (GET), "form" (url-encoded POST) or "multipart" (the new-ticket form)
--   BENCH_FORM      url-encoded fields sent before the varying one ("form"), or a file of
--                   "name=value" lines ("multipart")
--   BENCH_VALUES    file of values for the last field, one a line, taken at random ("form")
--   BENCH_VARY      the name of that field ("form")
--   BENCH_FILES     "count:path:name" of the file attached (count copies, "multipart")
--   BENCH_NONCE     8 hex digits, different for every wrk run: part of each submission token
--
-- A proxy terminating TLS sits in front of gunicorn in production; like nginx, every
-- request says X-Forwarded-Proto: https (the app runs with BEHIND_HTTPS_PROXY=1).
-- done() prints one line, BENCH_JSON {...}, that load.py reads.

local host = os.getenv("BENCH_HOST")
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local kind = os.getenv("BENCH_BODY") or ""
local nonce = os.getenv("BENCH_NONCE") or "00000000"

local function lines(path)
  local t = {}
  if path and path ~= "" then
    for l in io.lines(path) do
      if l ~= "" then t[#t + 1] = l end
    end
  end
  return t
end

local paths = lines(os.getenv("BENCH_PATHS"))
local values = lines(os.getenv("BENCH_VALUES"))

local base_headers = {
  ["Host"] = host,
  ["X-Forwarded-Proto"] = "https",
  ["User-Agent"] = "mesaayuda-load/1 (wrk)",
}
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then base_headers["Cookie"] = cookie end

-- Like wrk.format, but Content-Length always matches the body it is given.
local function head(method, path, extra, length)
  local s = { method .. " " .. path .. " HTTP/1.1" }
  for k, v in pairs(base_headers) do s[#s + 1] = k .. ": " .. v end
  for k, v in pairs(extra or {}) do s[#s + 1] = k .. ": " .. v end
  if length then s[#s + 1] = "Content-Length: " .. length end
  return table.concat(s, "\r\n") .. "\r\n\r\n"
end

local function urlencode(v)
  return (v:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
  table.insert(threads, thread)
end

-- Per thread (each has its own Lua state): the parts of the body that do not change.
local form_prefix, form_vary
local mp_head, mp_prefix, mp_suffix

function init(args)
  n = 0
  unexpected = 0
  unexpected_status = 0
  math.randomseed(tid * 7919 + os.time())
  if kind == "form" then
    form_prefix = os.getenv("BENCH_FORM") .. "&" .. os.getenv("BENCH_VARY") .. "="
  elseif kind == "multipart" then
    local boundary = "----mesaayudaload" .. nonce .. tid
    local parts = {}
    for l in io.lines(os.getenv("BENCH_FORM")) do
      local name, value = l:match("^([^=]+)=(.*)$")
      if name then
        parts[#parts + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name .. "\"\r\n\r\n" .. value .. "\r\n"
      end
    end
    local files = {}
    local spec = os.getenv("BENCH_FILES") or ""
    local count, path, fname = spec:match("^(%d+):([^:]+):(.+)$")
    if count then
      local f = assert(io.open(path, "rb"))
      local data = f:read("*a")
      f:close()
      for i = 1, tonumber(count) do
        files[#files + 1] = "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\""
          .. i .. "-" .. fname .. "\"\r\nContent-Type: application/octet-stream\r\n\r\n" .. data .. "\r\n"
      end
    end
    -- The submission token is the one part that changes; a UUID is always 36 characters,
    -- so the head (with Content-Length) is the same for every request.
    mp_prefix = table.concat(parts) .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"submission_token\"\r\n\r\n"
    mp_suffix = "\r\n" .. table.concat(files) .. "--" .. boundary .. "--\r\n"
    local length = #mp_prefix + 36 + #mp_suffix
    mp_head = head("POST", paths[1], {
      ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
      ["Origin"] = "https://" .. host,
      ["Referer"] = "https://" .. host .. paths[1],
    }, length)
  end
end

function request()
  n = n + 1
  local path = paths[(n + tid) % #paths + 1]
  if kind == "form" then
    local body = form_prefix .. urlencode(values[math.random(#values)])
    return head("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Origin"] = "https://" .. host,
      ["Referer"] = "https://" .. host .. path,
    }, #body) .. body
  elseif kind == "multipart" then
    local token = string.format("%s-%04x-4000-8000-%012x", nonce, tid, n)
    return mp_head .. mp_prefix .. token .. mp_suffix
  end
  return head("GET", path)
end

if os.getenv("BENCH_CHECK") == "1" then
  function response(status, headers, body)
    if status ~= expect then
      unexpected = unexpected + 1
      unexpected_status = status
    end
  end
end

function done(summary, latency, requests)
  local bad, bad_status = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
    local s = t:get("unexpected_status") or 0
    if s ~= 0 then bad_status = s end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,'
      .. '"mean_us":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"unexpected":%d,"unexpected_status":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout, bad, bad_status))
end
