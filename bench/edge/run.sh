#!/usr/bin/env bash
# bench/edge: what ../shared/bench does not measure, with its method (servers on one core, wrk
# on the other, 50 keep-alive connections, interleaved repetitions, ratios within one run):
#
#   https  cache hits over TLS 1.3 (TLS_AES_256_GCM_SHA384, which perch's BoringSSL picks from
#          wrk's OpenSSL offer; one P-256 certificate), perch and
#          nginx proxy_cache, 1 KiB and 256 KiB; perch's plain-HTTP 256 KiB beside it
#   miss   every request to the origin: a behavior with the managed CachingDisabled policy
#          against nginx proxy_pass with a keep-alive upstream, 1 KiB and 256 KiB
#   mix    Zipf(0.9) over 100,000 URLs of fixed sizes (80 % 1-16 KiB, 15 % 16-256 KiB,
#          5 % 1-8 MiB by count), every cache given 10 % of the working set's bytes:
#          perch, nginx, Varnish and Traffic Server (when installed)
#
#   PERCH=build/examples/proxy/perch-proxy bench/edge/run.sh
#
# Knobs: DURATION (10s), REPS (2), CONNS (50), CASES ("https miss mix"), MIX_URLS (100000),
# MIX_WARM (20s), MIX_DURATION (30s), PEERS_MIX ("nginx varnish ats"), RUN_DIR
# (/tmp/bench-edge-run), RESULTS ($RUN_DIR/results.md).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SHARED_BENCH=${SHARED_BENCH:-$HERE/../../../shared/bench}
RUN=${RUN_DIR:-/tmp/bench-edge-run}
SHM=/dev/shm/bench-edge
DURATION=${DURATION:-10s}
REPS=${REPS:-2}
CONNS=${CONNS:-50}
CASES=${CASES:-"https miss mix"}
MIX_URLS=${MIX_URLS:-100000}
MIX_WARM=${MIX_WARM:-20s}
MIX_DURATION=${MIX_DURATION:-30s}
PEERS_MIX=${PEERS_MIX:-"nginx varnish ats"}
RESULTS=${RESULTS:-$RUN/results.md}
PERCH=${PERCH:?PERCH must name the perch-proxy binary}
SERVER_CPU=1
LOAD_CPU=0
REPORT_LUA=$SHARED_BENCH/lib/report.lua

declare -A PID=()
ORDER=()
log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for bin in nginx wrk openssl curl taskset setsid python3; do
  command -v "$bin" >/dev/null || die "missing $bin"
done
[[ -f $REPORT_LUA ]] || die "missing $REPORT_LUA (../shared/bench)"
[[ $RUN == /tmp/* ]] || die "RUN_DIR must be under /tmp"

stop() {  # name
  local p=${PID[$1]:-}
  [[ -n $p ]] || return 0
  kill -TERM -- "-$p" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$p" 2>/dev/null
  unset "PID[$1]"
}
stop_all() { local i; for ((i=${#ORDER[@]}-1; i>=0; i--)); do stop "${ORDER[i]}"; done; rm -rf "$SHM"; }
trap stop_all EXIT
trap 'exit 130' INT TERM

start() {  # name probe-url cmd...: own process group, on the server core
  local name=$1 url=$2; shift 2
  setsid taskset -c "$SERVER_CPU" "$@" >"$RUN/$name.out" 2>&1 </dev/null &
  PID[$name]=$!; ORDER+=("$name")
  for _ in $(seq 150); do
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -20 "$RUN/$name.out" >&2; die "$name exited"; }
    curl -sk -o /dev/null --max-time 1 "$url" && { log "started $name"; return 0; }
    sleep 0.1
  done
  die "$name did not answer $url"
}
render() {  # template output
  sed -e "s#@RUN@#$RUN#g" -e "s#@SHM@#$SHM#g" -e "s#@MIX_BYTES@#$MIX_BYTES#g" \
      -e "s#@MIX_MIB@#$MIX_MIB#g" "$HERE/conf/$1" >"$2"
}
tree_rss_kb() {  # RSS summed over a process and its children
  local p c sum=0
  for p in $(pgrep -g "$1"); do
    c=$(awk '/^Rss:/{print $2}' "/proc/$p/smaps_rollup" 2>/dev/null); sum=$((sum + ${c:-0}))
  done
  echo $((sum))
}
origin_requests() { curl -s http://127.0.0.1:18188/ | awk 'NR==3{print $3}'; }

wrk_run() {  # label url [wrk options] [-- script args]: appends "label=... <RESULT> origin_reqs=N" to raw.tsv
  local label=$1 url=$2; shift 2
  local before after out line opts=()
  while (($#)) && [[ $1 != -- ]]; do opts+=("$1"); shift; done
  before=$(origin_requests)
  out=$(REPORT_LUA=$REPORT_LUA taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" --latency "${opts[@]}" "$url" "$@" 2>&1)
  after=$(origin_requests)
  printf '### %s %s\n%s\n\n' "$label" "$url" "$out" >>"$RUN/wrk-raw.log"
  line=$(grep '^RESULT' <<<"$out" | sed 's/^RESULT //')
  [[ -n $line ]] || { log "wrk failed for $label: $(tail -2 <<<"$out")"; return 1; }
  local non2xx; non2xx=$(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" | awk '{print $NF}')
  echo "label=$label $line non2xx=${non2xx:-0} origin_reqs=$((after - before - 1))" >>"$RUN/raw.tsv"
  log "$label: $(awk '{for(i=1;i<=NF;i++){split($i,a,"="); v[a[1]]=a[2]}} END{printf "%.0f req/s, p99 %.2f ms", v["requests"]/v["duration_us"]*1e6, v["p99_us"]/1000}' <<<"$line"), origin requests $((after - before - 1))${non2xx:+, non-2xx $non2xx}"
}

# ---------------------------------------------------------------- setup
rm -rf "$RUN" "$SHM"; mkdir -p "$RUN/www" "$RUN/nginx-prefix" "$SHM"; chmod 755 "$RUN"
for s in 1k:1024 16k:16384 256k:262144 4m:4194304; do
  head -c "${s#*:}" /dev/urandom >"$RUN/www/${s%%:*}.bin"
done
echo ok >"$RUN/www/index.html"
: >"$RUN/raw.tsv"; : >"$RUN/wrk-raw.log"; : >"$RUN/mix.tsv"
WORKING_SET=$(python3 "$HERE/lib/mix_urls.py" "$RUN/mix-urls.txt" "$RUN/sizes" "$MIX_URLS")
MIX_BYTES=$((WORKING_SET / 10))
MIX_MIB=$((MIX_BYTES >> 20))
MIX_BYTES=$((MIX_MIB << 20))
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 2 \
  -keyout "$RUN/key.pem" -out "$RUN/cert.pem" >/dev/null 2>&1 || die "openssl req failed"
{ echo "host: $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "params: wrk -t1 -c$CONNS -d$DURATION --latency, REPS=$REPS; mix: $MIX_URLS URLs, working set $((WORKING_SET >> 20)) MiB, cache budget $MIX_MIB MiB each, warm-up $MIX_WARM, measured $MIX_DURATION"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RUN/meta.txt"

render origin.nginx.conf "$RUN/origin.nginx.conf"
start origin http://127.0.0.1:18180/index.html nginx -p "$RUN/nginx-prefix/" -c "$RUN/origin.nginx.conf"
render nginx.conf "$RUN/nginx.conf"; mkdir -p "$RUN/nginx-peer-prefix"
start nginx http://127.0.0.1:18191/index.html nginx -p "$RUN/nginx-peer-prefix/" -c "$RUN/nginx.conf"
render perch.json "$RUN/perch.json"
start perch http://127.0.0.1:18190/index.html "$PERCH" --config "$RUN/perch.json" --stats-interval 0
for t in "perch https://127.0.0.1:18443" "nginx https://127.0.0.1:18444"; do
  set -- $t
  echo "$1 TLS: $(echo | openssl s_client -connect "${2#https://}" 2>/dev/null | grep -E '^New,' | sed 's/^New, //')" >>"$RUN/meta.txt"
done

# ---------------------------------------------------------------- https hits
if [[ " $CASES " == *" https "* ]]; then
  for t in "perch https://127.0.0.1:18443" "nginx https://127.0.0.1:18444" "perch-http http://127.0.0.1:18190"; do
    set -- $t
    for s in 1k 256k; do for _ in 1 2 3; do curl -sk -o /dev/null "$2/$s.bin"; done; done
  done
  for ((rep=1; rep<=REPS; rep++)); do
    for s in 1k 256k; do
      wrk_run "https perch $s" "https://127.0.0.1:18443/$s.bin" -d"$DURATION" -s "$REPORT_LUA"
      wrk_run "https nginx $s" "https://127.0.0.1:18444/$s.bin" -d"$DURATION" -s "$REPORT_LUA"
    done
    wrk_run "http perch 256k" "http://127.0.0.1:18190/256k.bin" -d"$DURATION" -s "$REPORT_LUA"
  done
fi

# ---------------------------------------------------------------- the miss path
if [[ " $CASES " == *" miss "* ]]; then
  for ((rep=1; rep<=REPS; rep++)); do
    for s in 1k 256k; do
      wrk_run "miss perch $s" "http://127.0.0.1:18190/nocache/$s.bin" -d"$DURATION" -s "$REPORT_LUA"
      wrk_run "miss nginx $s" "http://127.0.0.1:18191/nocache/$s.bin" -d"$DURATION" -s "$REPORT_LUA"
    done
  done
fi

# ---------------------------------------------------------------- the realistic mix
mix_run() {  # name port
  local name=$1 port=$2 l0 l1 r
  wrk_run "mix-warm $name" "http://127.0.0.1:$port" -d"$MIX_WARM" -s "$HERE/lib/mix.lua" -- \
    "$RUN/mix-urls.txt" 0.9 1 >/dev/null
  l0=$(wc -l <"$RUN/origin-mix.log")
  wrk_run "mix $name" "http://127.0.0.1:$port" -d"$MIX_DURATION" -s "$HERE/lib/mix.lua" -- \
    "$RUN/mix-urls.txt" 0.9 2 || return
  sleep 1 # the origin's last log lines
  l1=$(wc -l <"$RUN/origin-mix.log")
  r=$(tail -1 "$RUN/raw.tsv")
  echo "$r origin_bytes=$(sed -n "$((l0 + 1)),${l1}p" "$RUN/origin-mix.log" | awk '{s+=$1} END{printf "%.0f", s}') rss_kb=$(tree_rss_kb "${PID[$name]}")" >>"$RUN/mix.tsv"
}
if [[ " $CASES " == *" mix "* ]]; then
  stop nginx  # restarted below with only the mix server busy; the same config
  : >"$RUN/origin-mix.log"
  mix_run perch 18190
  for peer in $PEERS_MIX; do
    case $peer in
      nginx)
        start nginx http://127.0.0.1:18192/index.html nginx -p "$RUN/nginx-peer-prefix/" -c "$RUN/nginx.conf"
        mix_run nginx 18192; stop nginx ;;
      varnish)
        command -v varnishd >/dev/null || { log "varnish not installed: skipped"; continue; }
        cp "$HERE/conf/varnish.vcl" "$RUN/varnish.vcl"
        start varnish http://127.0.0.1:18193/index.html varnishd -F -j none -n "$RUN/varnish" \
          -a 127.0.0.1:18193 -f "$RUN/varnish.vcl" -s "malloc,${MIX_MIB}M" \
          -p thread_pools=1 -p thread_pool_min=100 -p thread_pool_max=1000
        mix_run varnish 18193; stop varnish ;;
      ats)
        command -v traffic_server >/dev/null || { log "Traffic Server not installed: skipped"; continue; }
        mkdir -p "$RUN/ats/etc" "$RUN/ats/var" "$RUN/ats/run" "$RUN/ats/log" "$RUN/ats/cache" "$SHM/ats-cache"
        cp -r /etc/trafficserver/. "$RUN/ats/etc/"; : >"$RUN/ats/etc/plugin.config"
        for f in records.config remap.config storage.config; do render "ats/$f" "$RUN/ats/etc/$f"; done
        render ats/runroot.yaml "$RUN/ats/runroot.yaml"
        start ats http://127.0.0.1:18194/index.html traffic_server --run-root="$RUN/ats"
        mix_run ats 18194; stop ats ;;
    esac
  done
fi

echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RUN/meta.txt"
stop_all
python3 "$HERE/lib/summarize.py" "$RUN" >"$RESULTS"
cat "$RESULTS"
log "results: $RESULTS (raw: $RUN/raw.tsv, $RUN/mix.tsv, $RUN/wrk-raw.log)"
