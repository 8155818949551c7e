# Shared by the benchmarks (sourced, not run): the cached corpus maildir.

# bench_corpus COUNT: sets CACHE to build/bench/maildir-COUNT-seed7, made by
# mkcorpus.py on first use and then reused read-only by every bench.
bench_corpus() {
	CACHE=$TOP/build/bench/maildir-$1-seed7
	if [ ! -f "$CACHE/.complete" ]; then
		rm -rf "$CACHE"
		mkdir -p "$(dirname "$CACHE")"
		echo "== generating $1 messages in $CACHE"
		python3 "$SHARED/corpus/mkcorpus.py" --maildir "$CACHE" --count "$1" --seed 7 >/dev/null
		touch "$CACHE/.complete"
	fi
}

# bench_warm DIR: reads every message once so all runs see a warm page cache.
bench_warm() {
	find "$1" -type f -path '*/cur/*' -exec cat {} + > /dev/null
	find "$1" -type f -path '*/new/*' -exec cat {} + > /dev/null
}

# bench_free_port: a free TCP port on 127.0.0.1.
bench_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bench_wait_port PORT: until something accepts on it (10 s at most); 1 if not.
bench_wait_port() {
	for _ in $(seq 100); do
		python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
