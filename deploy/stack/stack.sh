#!/usr/bin/env bash
# Starts, waits for and stops the real Kafka (KRaft) broker and Elasticsearch node that
# Podwatch's integration tests use, without Docker: jars come from Maven Central.
#
#   stack.sh up|down|status|env          the whole stack
#   stack.sh kafka-up|kafka-down|kafka-kill|es-up|es-down|es-kill   one component (fault tests; *-kill is kill -9)
#   stack.sh reset                       stop and delete the stack's data
#
# Kafka also listens with SASL_SSL on the port after the controller's (19094): TLS with a
# client certificate required, SCRAM-SHA-512 user `podwatch`; the CA, a client certificate
# and key, and the password are in <stack dir>/kafka/tls (tests of TLS and authentication).
#
# Settings (environment): PODWATCH_STACK_DIR (data, logs, pid files; default <repo>/.stack),
# PODWATCH_KAFKA_PORT (19092; the controller uses the next port, SASL_SSL the one after), PODWATCH_KAFKA_HEAP (512m),
# PODWATCH_ES_PORT (9201), PODWATCH_ES_HEAP (1g), PODWATCH_STACK_WAIT (seconds, 120).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=${PODWATCH_STACK_DIR:-$repo/.stack}
kafka_port=${PODWATCH_KAFKA_PORT:-19092}
controller_port=$((kafka_port + 1))
secure_port=$((kafka_port + 2))
kafka_heap=${PODWATCH_KAFKA_HEAP:-512m}
es_port=${PODWATCH_ES_PORT:-9201}
es_heap=${PODWATCH_ES_HEAP:-1g}
wait_s=${PODWATCH_STACK_WAIT:-120}

log() { printf 'stack: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v java >/dev/null || die "java not found (install a JDK 17+, e.g. apt-get install openjdk-17-jre-headless)"
command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
command -v curl >/dev/null || die "curl not found (apt-get install curl)"

# Resolves a pom's runtime classpath through Maven's own cache (~/.m2), offline first.
classpath() {
  local name=$1 out="$dir/$1.classpath"
  mkdir -p "$dir"
  if [[ ! -s $out || $here/$name.pom.xml -nt $out ]]; then
    log "resolving $name jars with Maven"
    mvn -q -o -f "$here/$name.pom.xml" dependency:build-classpath -Dmdep.outputFile="$out" >/dev/null 2>&1 \
      || mvn -q -B -f "$here/$name.pom.xml" dependency:build-classpath -Dmdep.outputFile="$out" >"$dir/$name-mvn.log" 2>&1 \
      || { tail -20 "$dir/$name-mvn.log" >&2; die "could not resolve $name jars"; }
  fi
  cat "$out"
}

alive() { local f="$dir/$1.pid"; [[ -s $f ]] && kill -0 "$(cat "$f")" 2>/dev/null; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_until() { # name, check command...
  local name=$1; shift
  local deadline=$((SECONDS + wait_s))
  until "$@"; do
    if ! alive "$name"; then
      log "$name exited while starting; last lines of its log:"; tail -30 "$dir/$name/stdout.log" >&2 || true
      die "$name did not start"
    fi
    if ((SECONDS > deadline)); then
      log "$name not healthy after ${wait_s}s; last lines of its log:"; tail -30 "$dir/$name/stdout.log" >&2 || true
      die "$name did not become healthy"
    fi
    sleep 1
  done
}

kafka_healthy() { port_open "$kafka_port" && grep -q 'Kafka Server started' "$dir/kafka/server.log" 2>/dev/null; }

# A CA, the broker's certificate for 127.0.0.1/localhost, a client certificate, and the SCRAM
# password, made once per stack directory with openssl.
kafka_tls() {
  local t=$dir/kafka/tls
  [[ -s $t/password && -s $t/broker.pem && -s $t/client.key ]] && return
  command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"
  mkdir -p "$t"
  (
    cd "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=podwatch-stack-ca -keyout ca.key -out ca.crt
    for who in broker client; do
      openssl req -newkey rsa:2048 -nodes -subj "/CN=podwatch-stack-$who" -keyout "$who.key" -out "$who.csr"
      openssl x509 -req -in "$who.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out "$who.crt" \
        -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n')
    done
    # Kafka's PEM key store: the PKCS#8 key followed by the certificate chain.
    openssl pkcs8 -topk8 -nocrypt -in broker.key | cat - broker.crt ca.crt >broker.pem
    openssl rand -hex 16 >password
  ) >"$dir/kafka/tls.log" 2>&1 || { cat "$dir/kafka/tls.log" >&2; die "could not make the Kafka TLS material"; }
  chmod 600 "$t"/*.key "$t/password"
}

# The SCRAM user, through the broker's own admin tool; once per stack directory.
kafka_scram_user() {
  local t=$dir/kafka/tls
  [[ -f $t/scram.done ]] && return
  local cp; cp=$(classpath kafka)
  java -cp "$cp" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$kafka_port" --alter --entity-type users --entity-name podwatch \
    --add-config "SCRAM-SHA-512=[password=$(cat "$t/password")]" >"$dir/kafka/scram.log" 2>&1 \
    || { cat "$dir/kafka/scram.log" >&2; die "could not create the Kafka SCRAM user"; }
  touch "$t/scram.done"
}

kafka_up() {
  if alive kafka; then log "kafka already running (pid $(cat "$dir/kafka.pid"))"; return; fi
  local cp; cp=$(classpath kafka)
  mkdir -p "$dir/kafka"
  kafka_tls
  cat >"$dir/kafka/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$controller_port,SASL_SSL://127.0.0.1:$secure_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port,SASL_SSL://127.0.0.1:$secure_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
inter.broker.listener.name=PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$dir/kafka/tls/broker.pem
listener.name.sasl_ssl.ssl.truststore.type=PEM
listener.name.sasl_ssl.ssl.truststore.location=$dir/kafka/tls/ca.crt
listener.name.sasl_ssl.ssl.client.auth=required
log.dirs=$dir/kafka/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
log.cleaner.backoff.ms=1000
PROPS
  cat >"$dir/kafka/log4j2.properties" <<PROPS
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/kafka/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
PROPS
  if [[ ! -f $dir/kafka/data/meta.properties ]]; then
    log "formatting kafka storage"
    java -cp "$cp" kafka.tools.StorageTool format -t "$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      -c "$dir/kafka/server.properties" >"$dir/kafka/format.log" 2>&1 || { cat "$dir/kafka/format.log" >&2; die "kafka storage format failed"; }
  fi
  : >"$dir/kafka/server.log"
  log "starting kafka on 127.0.0.1:$kafka_port"
  nohup java -Xms128m "-Xmx$kafka_heap" -XX:+UseG1GC -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$dir/kafka/log4j2.properties" -cp "$cp" kafka.Kafka "$dir/kafka/server.properties" \
    >"$dir/kafka/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/kafka.pid"
  wait_until kafka kafka_healthy
  kafka_scram_user
  log "kafka healthy"
}

es_healthy() { curl -fsS "http://127.0.0.1:$es_port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; }

es_up() {
  if alive elasticsearch; then log "elasticsearch already running (pid $(cat "$dir/elasticsearch.pid"))"; return; fi
  port_open "$es_port" && die "port $es_port is taken by another process; set PODWATCH_ES_PORT"
  local cp; cp=$(classpath elasticsearch)
  mkdir -p "$dir/elasticsearch"
  log "starting elasticsearch on 127.0.0.1:$es_port"
  # The runner gives node 1 the first free port above its base port.
  nohup java -Xms"$es_heap" -Xmx"$es_heap" -XX:+UseG1GC -Djava.awt.headless=true -cp "$cp" \
    org.codelibs.elasticsearch.runner.ElasticsearchClusterRunner -basePath "$dir/elasticsearch/node" -numOfNode 1 \
    -baseHttpPort "$((es_port - 1))" -clusterName podwatch-stack \
    >"$dir/elasticsearch/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/elasticsearch.pid"
  wait_until elasticsearch es_healthy
  log "elasticsearch healthy"
}

stop() { # name
  local f="$dir/$1.pid"
  if ! alive "$1"; then rm -f "$f"; log "$1 not running"; return; fi
  local pid; pid=$(cat "$f")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then log "$1 ignored SIGTERM; killing"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$f"
  log "$1 stopped"
}

crash() { # name: kill -9, as a power cut would (fault tests)
  local f="$dir/$1.pid"
  if ! alive "$1"; then rm -f "$f"; log "$1 not running"; return; fi
  local pid; pid=$(cat "$f")
  kill -9 "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  rm -f "$f"
  log "$1 killed (-9)"
}

status() {
  local rc=0
  if alive kafka && kafka_healthy; then echo "kafka: up (pid $(cat "$dir/kafka.pid"), 127.0.0.1:$kafka_port)"; else echo "kafka: down"; rc=1; fi
  if alive elasticsearch && es_healthy; then echo "elasticsearch: up (pid $(cat "$dir/elasticsearch.pid"), http://127.0.0.1:$es_port)"; else echo "elasticsearch: down"; rc=1; fi
  return $rc
}

case "${1:-}" in
  up) kafka_up; es_up ;;
  down) stop kafka; stop elasticsearch ;;
  status) status ;;
  env) echo "PODWATCH_KAFKA_BROKERS=127.0.0.1:$kafka_port"; echo "PODWATCH_KAFKA_SECURE_BROKERS=127.0.0.1:$secure_port"
       echo "PODWATCH_KAFKA_TLS_DIR=$dir/kafka/tls"; echo "PODWATCH_ES_URL=http://127.0.0.1:$es_port" ;;
  kafka-up) kafka_up ;;
  kafka-down) stop kafka ;;
  kafka-kill) crash kafka ;;
  es-up) es_up ;;
  es-down) stop elasticsearch ;;
  es-kill) crash elasticsearch ;;
  reset) stop kafka; stop elasticsearch; rm -rf "$dir/kafka" "$dir/elasticsearch" ;;
  *) echo "usage: $0 up|down|status|env|kafka-up|kafka-down|kafka-kill|es-up|es-down|es-kill|reset" >&2; exit 2 ;;
esac
