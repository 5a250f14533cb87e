-- Prosody's own server side of SCRAM (util.sasl, as installed with the
-- prosody package), one exchange over stdin/stdout, a message a line:
-- tests/unit/scram_server.py relays between it and our client.
--
--   lua5.4 scram_prosody.lua MECH PASSWORD [CBDATA-HEX]
--
-- A failure is written as "e=CONDITION", the form a server-final-message
-- gives it, so the client sees the refusal.
package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local sasl = require "util.sasl"

local mech, password, cbhex = arg[1], arg[2], arg[3]
local handler = sasl.new("localhost", {
	plain = function() return password, true end,
})
if cbhex and #cbhex > 0 then
	local cb = cbhex:gsub("..", function(x) return string.char(tonumber(x, 16)) end)
	handler:add_cb_handler("tls-exporter", function() return cb end)
end
assert(handler:select(mech), "Prosody has no " .. mech)
for line in io.lines() do
	local status, data = handler:process(line)
	if status == "failure" then
		io.write("e=", data, "\n")
	else
		io.write(data or "", "\n")
	end
	io.flush()
	if status ~= "challenge" then break end
end
