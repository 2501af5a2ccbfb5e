#!/usr/bin/env bash
# A real Podman API service for tests and fixtures, confined to DIR (storage, events file,
# socket). Usage: podman.sh start DIR [LOG_LEVEL] | podman.sh stop DIR
# Prints the environment (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF) for podman CLI calls.
set -euo pipefail
cmd=$1 dir=$(realpath -m "$2") level=${3:-info}
mkdir -p "$dir"
export CONTAINERS_CONF=$dir/containers.conf CONTAINERS_STORAGE_CONF=$dir/storage.conf
case "$cmd" in
start)
  cat > "$CONTAINERS_CONF" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
CONF
  printf '[storage]\ndriver = "overlay"\nrunroot = "%s/run"\ngraphroot = "%s/graph"\n' "$dir" "$dir" > "$CONTAINERS_STORAGE_CONF"
  if ! podman image exists localhost/test-busybox 2>/dev/null; then
    rm -rf "$dir/rootfs" && mkdir -p "$dir/rootfs/bin"
    cp /bin/busybox "$dir/rootfs/bin/"
    for a in sh ls cat echo sleep id env; do ln -sf busybox "$dir/rootfs/bin/$a"; done
    tar -C "$dir/rootfs" -cf "$dir/rootfs.tar" . && podman import -q "$dir/rootfs.tar" localhost/test-busybox >/dev/null
  fi
  nohup podman --log-level="$level" system service --time=0 "unix://$dir/podman.sock" > "$dir/service.log" 2>&1 &
  echo $! > "$dir/service.pid"
  for _ in $(seq 1 100); do [[ -S $dir/podman.sock ]] && break; sleep 0.1; done
  [[ -S $dir/podman.sock ]] || { cat "$dir/service.log" >&2; exit 1; }
  echo "CONTAINERS_CONF=$CONTAINERS_CONF CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF"
  ;;
stop)
  [[ -f $dir/service.pid ]] && kill "$(cat "$dir/service.pid")" 2>/dev/null || true
  podman rm -af -t 0 >/dev/null 2>&1 || true
  # Each API exec leaves a conmon behind for 300 s; stop the ones under this directory.
  pkill -f "conmon.*$dir" 2>/dev/null || true
  rm -f "$dir/service.pid"
  ;;
esac
