-- wrk script: each request gives 1 point from one of the bench givers
-- (tokens and recipient ids come from the generated bench_data.lua).
dofile(os.getenv("BENCH_DATA"))
local counter = 0
local statuses = {}

request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local recipient = recipients[(counter % #recipients) + 1]
  local body = '{"recipients":["' .. recipient .. '"],"points":1,"message":"Thanks for the help! 🎉","values":[]}'
  return wrk.format("POST", "/api/v1/recognitions",
    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 201 and (statuses[status] or 0) < 3 then
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
