-- ARGV: room, kind, frame, log ttl ms: a frame from the server to every peer of the room.
deliver_all(ARGV[1], '', ARGV[2], '0', ARGV[3], tonumber(ARGV[4]))
return 1
