-- The sandbox every script runs in, built once per Lua state before the globals are locked.
-- It returns the locked globals (the table scripts see as their environment), the real
-- table behind them, the function that runs a script under Redis's error handler, and the
-- switch FUNCTION LOAD uses: while a library loads, its code sees only `redis` with
-- register_function, log and the version.
local real = _G
local register = rawget(real, "__register_function")
local heap_exhausted = rawget(real, "__heap_exhausted")
local NO_MEMORY = "not enough memory"
local api = rawget(real, "redis")
local rawset_, rawget_, error_, type_, tostring_ = rawset, rawget, error, type, tostring
local setmetatable_, getmetatable_, xpcall_, pcall_, select_ = setmetatable, getmetatable, xpcall, pcall, select
local getinfo = debug.getinfo
local unpack_, maxn = unpack, table.maxn
local SELF = "=redis-sandbox"

-- Globals a script may read, as Redis 7.0 allows them (print, dofile, loadfile, io, os,
-- require and debug are gone; Redis's Lua has no newproxy).
local allowed = {
  string = 1, math = 1, table = 1, redis = 1, coroutine = 1, bit = 1, cjson = 1,
  cmsgpack = 1, struct = 1,
  xpcall = 1, tostring = 1, getfenv = 1, setmetatable = 1, next = 1, assert = 1,
  tonumber = 1, rawequal = 1, collectgarbage = 1, getmetatable = 1, rawset = 1, pcall = 1,
  type = 1, _G = 1, select = 1, unpack = 1, gcinfo = 1, pairs = 1, rawget = 1,
  loadstring = 1, ipairs = 1, _VERSION = 1, setfenv = 1, load = 1, error = 1,
}
local names = {}
for k in next, real do names[#names + 1] = k end
for _, k in ipairs(names) do
  if not allowed[k] then rawset_(real, k, nil) end
end

-- Tables a script cannot change: the globals, the libraries and their metatables.
local locked = setmetatable_({}, { __mode = "k" })
local function readonly()
  error_("Attempt to modify a readonly table", 2)
end
-- Raised by the functions standing in for Redis's C checks: no position, as there.
local function refused()
  error_("Attempt to modify a readonly table", 0)
end
local function lock(t, index)
  local view = {}
  locked[view] = true
  setmetatable_(view, { __index = index or t, __newindex = readonly })
  return view
end

-- Redis's pcall turns an error table ({err = ...}) back into its message.
rawset_(real, "pcall", function(f, ...)
  local r = { pcall_(f, ...) }
  if not r[1] and type_(r[2]) == "table" then
    local e = rawget_(r[2], "err")
    if type_(e) == "string" then r[2] = e end
  end
  return unpack_(r, 1, maxn(r))
end)
rawset_(real, "rawset", function(t, k, v)
  if locked[t] then refused() end
  return rawset_(t, k, v)
end)
rawset_(real, "setmetatable", function(t, mt)
  if locked[t] then refused() end
  return setmetatable_(t, mt)
end)
local mtviews = setmetatable_({}, { __mode = "k" })
rawset_(real, "getmetatable", function(t)
  if locked[t] then
    local v = mtviews[t]
    if not v then
      v = lock({}, getmetatable_(t))
      mtviews[t] = v
    end
    return v
  end
  return getmetatable_(t)
end)

for _, lib in ipairs({ "string", "math", "table", "coroutine", "redis", "bit", "cjson", "cmsgpack", "struct" }) do
  rawset_(real, lib, lock(rawget_(real, lib)))
end

local function missing(k)
  return "Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'"
end

-- What a library's code sees while it loads.
local loadredis = { register_function = register, log = rawget_(api, "log") }
for _, k in ipairs({ "LOG_DEBUG", "LOG_VERBOSE", "LOG_NOTICE", "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM" }) do
  loadredis[k] = rawget_(api, k)
end
local loadview = {}
locked[loadview] = true
setmetatable_(loadview, {
  __index = function(_, k)
    local v = rawget_(loadredis, k)
    if v == nil then error_(missing(k), 2) end
    return v
  end,
  __newindex = readonly,
})
local loadapi = { redis = loadview }
local loading = false

local env = {}
locked[env] = true
setmetatable_(env, {
  __index = function(_, k)
    local v = rawget_(loading and loadapi or real, k)
    if v == nil then
      error_(missing(k), 2)
    end
    return v
  end,
  __newindex = readonly,
})
rawset_(real, "_G", env)

-- The frame `level` of the stack an error was raised on, counted as `handler` below counts
-- (2 is the function that raised it): the live stack under xpcall, or the frames a dead
-- script coroutine `co` kept (its frame 0 raised the error).
local function frame(co, level)
  local i
  if co then
    i = getinfo(co, level - 2, "nSl")
  else
    i = getinfo(level + 2, "nSl")
  end
  return i
end

-- As Redis's __redis__err__handler: the error becomes a table with the place it was raised
-- (the frames of this sandbox stand in for Redis's C functions and are skipped).
local function describe(co, err)
  -- C Lua runs no handler for its own allocation failure: Redis reports the bare message.
  if err == NO_MEMORY and heap_exhausted() then return err end
  local level = 2
  local i = frame(co, level)
  if i and i.what == "C" then
    level = level + 1
    i = frame(co, level)
  end
  while i and i.source == SELF do
    level = level + 1
    i = frame(co, level)
    if i and i.what == "C" then
      level = level + 1
      i = frame(co, level)
    end
  end
  if type_(err) ~= "table" then
    err = { err = "ERR " .. tostring_(err) }
  end
  if i then
    err["source"] = i.source
    err["line"] = i.currentline
  end
  return err
end

local function handler(err)
  local e = describe(nil, err)
  return e
end

-- The same for a script run as a coroutine (so that it can be suspended between slices):
-- called once the error has ended it, on the frames it kept.
local function thread_handler(co, err)
  local e = describe(co, err)
  return e
end

local function run(f, ...)
  local n = select_("#", ...)
  local args = { ... }
  if n == 0 then return xpcall_(f, handler) end
  return xpcall_(function() return f(unpack_(args, 1, n)) end, handler)
end

local function control(on)
  loading = on
end

return env, real, run, control, thread_handler
