#!/usr/bin/env bash
# Runs a real nginx with the reference configuration (deploy/nginx/podman-api.conf), its paths
# pointed at DIR: nginx.sh start DIR PKI_DIR PODMAN_SOCKET PORT | nginx.sh stop DIR
# Also writes the access log in the default `combined` format beside the JSON one.
# LISTEN=0.0.0.0 makes it reachable from network namespaces too (default 127.0.0.1).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
cmd=$1 dir=$(realpath -m "$2")
case "$cmd" in
start)
  pki=$(realpath "$3") sock=$4 port=$5
  mkdir -p "$dir/logs"
  sed -e "s#include /etc/nginx/podwatch-log-format.conf;#include $here/deploy/nginx/podwatch-log-format.conf;#" \
      -e "s#unix:/run/podman/podman.sock#unix:$sock#" \
      -e "s#listen 8443 ssl;#listen ${LISTEN:-127.0.0.1}:$port ssl;#" \
      -e "s#/etc/podwatch-proxy/server#$pki/server#g" \
      -e "s#/etc/podwatch-proxy/clients-ca.crt#$pki/ca.crt#" \
      -e "s#/etc/podwatch-proxy/clients.crl#$pki/ca.crl#" \
      -e "s#/var/log/nginx/podman-access.log podwatch_json;#$dir/logs/access.json.log podwatch_json;\n    access_log $dir/logs/access.combined.log combined;#" \
      -e "s#/var/log/nginx/podman-error.log#$dir/logs/error.log#" \
      "$here/deploy/nginx/podman-api.conf" > "$dir/site.conf"
  cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
user root;  # the lab socket lives in a private test folder
pid $dir/nginx.pid;
error_log $dir/logs/main-error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/tmp; proxy_temp_path $dir/tmp; fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp; scgi_temp_path $dir/tmp;
  access_log off;
  include $dir/site.conf;
}
CONF
  mkdir -p "$dir/tmp"
  nginx -c "$dir/nginx.conf" -e "$dir/logs/main-error.log"
  ;;
stop)
  [[ -f $dir/nginx.pid ]] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true
  ;;
esac
