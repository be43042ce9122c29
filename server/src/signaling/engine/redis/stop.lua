-- ARGV: node, grace ms. A node shutting down: its peers enter their grace now (they resume on
-- another node), its lease ends.
reap_node(ARGV[1], now_ms() + tonumber(ARGV[2]))
return 1
