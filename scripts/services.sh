# Test services on loopback, sourced by scripts/test.sh. prepare_services builds or installs
# what is missing once (cached under $DIM_TOOLS); each start_* function starts its server, waits
# for it, exports how to reach it, and fails loudly if it does not come up. stop_services stops
# everything started here.

DIM_TOOLS=${DIM_TOOLS:-$HOME/.cache/dim-test-tools}
SERVICES_DIR=$(mktemp -d /tmp/dim-services.XXXXXX)
SERVICE_PIDS=()

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers HTTP (any status), trying up to TRIES times 0.2 s apart.
answers_http() {
    local url=$1 tries=$2 i
    for i in $(seq 1 "$tries"); do
        if python3 -c "import urllib.request,sys
try: urllib.request.urlopen('$url', timeout=1)
except urllib.error.HTTPError: sys.exit(0)
except Exception: sys.exit(1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}

# Stops a background job and everything it started (a cargo build runs rustc as its children).
kill_tree() {
    local pid=$1 child
    for child in $(pgrep -P "$pid" 2>/dev/null); do
        kill_tree "$child"
    done
    kill "$pid" 2>/dev/null || true
}

stop_services() {
    [ -n "${PREPARE_PID:-}" ] && kill_tree "$PREPARE_PID"
    stop_postgres
    for pid in "${SERVICE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${SERVICE_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$SERVICES_DIR"
}

# Builds a test server from crates.io once into $DIM_TOOLS/NAME-VERSION. The servers' own
# release profiles ask for full optimisation with link-time optimisation in one codegen unit,
# which is most of their build time on two cores and buys the tests nothing: a test server only
# has to answer on loopback, so it is built at opt-level 1, without LTO, in parallel codegen
# units, without debug info. Both servers build in one target directory, so the crates they share
# (same version, features and profile) compile once; it is removed when both are installed.
build_tool() {
    local name=$1 version=$2 started
    shift 2
    started=$(date +%s)
    echo "building $name $version once (cached in $DIM_TOOLS)"
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
        CARGO_PROFILE_RELEASE_DEBUG=0 CARGO_PROFILE_RELEASE_INCREMENTAL=false \
        CARGO_TARGET_DIR="$DIM_TOOLS/build" cargo install "$name" --version "$version" "$@" --locked \
        --root "$DIM_TOOLS/$name-$version" >"$SERVICES_DIR/$name-build.log" 2>&1 || {
        tail -30 "$SERVICES_DIR/$name-build.log"
        echo "FAILED: could not build $name" >&2
        return 1
    }
    echo "built $name $version in $(($(date +%s) - started)) s"
}

GARAGE_BIN="$DIM_TOOLS/garage-2.5.0/bin/garage"
TANSU_BIN="$DIM_TOOLS/tansu-0.6.0/bin/tansu"

# Builds the servers and the Python clients that are missing. It takes half an hour on a fresh
# machine and little CPU at times (one big crate, a link), so test.sh runs it in the background
# beside its own checks and build, and waits for it before starting the services.
prepare_services() {
    # Garage with the SQLite metadata engine the tests configure, without its metrics, LMDB and
    # K2V (nothing here uses them).
    [ -x "$GARAGE_BIN" ] || build_tool garage 2.5.0 --no-default-features \
        --features bundled-libs,sqlite || return 1
    [ -x "$TANSU_BIN" ] || build_tool tansu 0.6.0 --features libsql || return 1
    rm -rf "$DIM_TOOLS/build"
    install_postgres || return 1
    setup_kafka_client >/dev/null || return 1
    setup_s3_client >/dev/null
}

# Garage 2.5.0, a production S3 server, as the S3 endpoint of the integration tests.
start_garage() {
    local bin="$GARAGE_BIN"
    [ -x "$bin" ] || { echo "FAILED: Garage is not built (prepare_services builds it)" >&2; return 1; }
    local dir="$SERVICES_DIR/garage" s3_port rpc_port secret
    mkdir -p "$dir"
    s3_port=$(free_port)
    rpc_port=$(free_port)
    secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    cat >"$dir/garage.toml" <<TOML
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$s3_port"
TOML
    local g=("$bin" -c "$dir/garage.toml")
    "${g[@]}" server >"$dir/garage.log" 2>&1 &
    SERVICE_PIDS+=($!)
    local node="" i
    for i in $(seq 1 50); do
        node=$("${g[@]}" node id -q 2>/dev/null) && break
        sleep 0.2
    done
    if [ -z "$node" ]; then
        tail -20 "$dir/garage.log"
        echo "FAILED: Garage did not start" >&2
        return 1
    fi
    # `node id` reads the key on disk; the RPC port may not listen yet on a busy machine, and
    # every command below needs it.
    for i in $(seq 1 100); do
        "${g[@]}" status >/dev/null 2>&1 && break
        sleep 0.2
        [ "$i" = 100 ] && { tail -20 "$dir/garage.log"; echo "FAILED: Garage's RPC did not answer" >&2; return 1; }
    done
    "${g[@]}" layout assign -z dc1 -c 1G "${node%%@*}" >/dev/null
    "${g[@]}" layout apply --version 1 >/dev/null
    local key_id="GK$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    local key_secret
    key_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    "${g[@]}" key import --yes -n dim-test "$key_id" "$key_secret" >/dev/null
    "${g[@]}" key allow --create-bucket dim-test >/dev/null
    local b
    for b in dim-hot dim-cool dim-archive; do
        "${g[@]}" bucket create "$b" >/dev/null
        "${g[@]}" bucket allow --read --write --owner "$b" --key dim-test >/dev/null
    done
    # Ready when the S3 API answers.
    answers_http "http://127.0.0.1:$s3_port/" 50 || { echo "FAILED: Garage's S3 API did not answer" >&2; return 1; }
    export DIM_TEST_S3_ENDPOINT="http://127.0.0.1:$s3_port"
    export DIM_TEST_S3_REGION=garage
    export DIM_TEST_S3_ACCESS_KEY="$key_id"
    export DIM_TEST_S3_SECRET_KEY="$key_secret"
    export DIM_TEST_S3_BUCKETS="dim-hot dim-cool dim-archive"
    echo "Garage S3 on $DIM_TEST_S3_ENDPOINT (buckets: $DIM_TEST_S3_BUCKETS)"
}

# tansu 0.6.0, a Kafka-protocol broker with SQLite storage, as the Kafka endpoint of the
# integration tests. It does not auto-create topics: dim (and the tests) create theirs.
start_tansu() {
    local bin="$TANSU_BIN"
    [ -x "$bin" ] || { echo "FAILED: tansu is not built (prepare_services builds it)" >&2; return 1; }
    local dir="$SERVICES_DIR/tansu" port
    mkdir -p "$dir"
    port=$(free_port)
    # tansu reads the path of a sqlite:// URL as relative to its working directory.
    (cd "$dir" && exec "$bin" broker --storage-engine "sqlite://tansu.db" \
        --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
        >"$dir/tansu.log" 2>&1) &
    SERVICE_PIDS+=($!)
    local i
    for i in $(seq 1 100); do
        if python3 -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1', $port)))" 2>/dev/null; then
            break
        fi
        sleep 0.2
        if [ "$i" = 100 ]; then
            tail -20 "$dir/tansu.log"
            echo "FAILED: tansu did not start" >&2
            return 1
        fi
    done
    export DIM_TEST_KAFKA_BROKERS="127.0.0.1:$port"
    # The tests that stop and restart the broker start their own with these.
    export DIM_TEST_TANSU_BIN="$bin"
    echo "tansu Kafka broker on $DIM_TEST_KAFKA_BROKERS"
}

# A Python venv with confluent-kafka (librdkafka 2.x), the independent Kafka client of the tests.
setup_kafka_client() {
    local venv="$DIM_TOOLS/py-confluent-kafka"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import confluent_kafka" 2>/dev/null; then
        echo "creating a Python venv with confluent-kafka (cached in $venv)"
        python3 -m venv "$venv" && "$venv/bin/pip" install -q "confluent-kafka>=2.3,<3" || {
            echo "FAILED: could not install confluent-kafka" >&2
            return 1
        }
    fi
    export DIM_TEST_PYTHON="$venv/bin/python"
    echo "confluent-kafka $("$venv/bin/python" -c 'import confluent_kafka as c; print(c.version()[0], "librdkafka", c.libversion()[0])')"
}

# A Python venv with boto3 (the independent S3 client of the tests) and moto's server mode, the
# second S3 endpoint: it implements what Garage does not (storage classes, versioning, restores
# from archive classes, tagging, SSE-S3/KMS headers). Ceph's radosgw would be the production
# choice, but Debian 12 ships Ceph 16, whose radosgw cannot run without a RADOS cluster (the
# standalone dbstore backend came later).
setup_s3_client() {
    local venv="$DIM_TOOLS/py-s3"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import boto3, moto.server" 2>/dev/null; then
        echo "creating a Python venv with boto3 and moto[server] (cached in $venv)"
        python3 -m venv "$venv" && "$venv/bin/pip" install -q "moto[server]==5.2.5" "boto3>=1.35,<2" || {
            echo "FAILED: could not install boto3 and moto" >&2
            return 1
        }
    fi
    export DIM_TEST_S3_PYTHON="$venv/bin/python"
    echo "boto3 $("$venv/bin/python" -c 'import boto3; print(boto3.__version__)')"
}

start_moto() {
    local dir="$SERVICES_DIR/moto" port
    mkdir -p "$dir"
    port=$(free_port)
    (cd "$dir" && exec "$DIM_TEST_S3_PYTHON" -m moto.server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1) &
    SERVICE_PIDS+=($!)
    if ! answers_http "http://127.0.0.1:$port/moto-api/" 100; then
        tail -20 "$dir/moto.log"
        echo "FAILED: the moto S3 server did not start" >&2
        return 1
    fi
    export DIM_TEST_S3X_ENDPOINT="http://127.0.0.1:$port"
    echo "moto S3 (storage classes, versioning, restore, tagging, SSE) on $DIM_TEST_S3X_ENDPOINT"
}

# PostgreSQL from Debian's packages (installed once when missing, by install_postgres), the
# store of several nodes: initdb into the services directory and pg_ctl on a loopback port. The
# server refuses to run as root, so as root it runs as the `postgres` user the package creates.
pg_bin_dir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    done
    return 1
}

install_postgres() {
    pg_bin_dir >/dev/null && return 0
    echo "installing PostgreSQL (Debian's postgresql package)"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi || { echo "FAILED: could not install postgresql" >&2; return 1; }
    # The package starts a cluster of its own on 5432; the tests use theirs.
    command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
        pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
    done
    pg_bin_dir >/dev/null
}

start_postgres() {
    local bin dir="$SERVICES_DIR/postgres" port as=()
    bin=$(pg_bin_dir) || { echo "FAILED: PostgreSQL is not installed (install_postgres installs it)" >&2; return 1; }
    mkdir -p "$dir"
    port=$(free_port)
    if [ "$(id -u)" = 0 ]; then
        # The server's user must reach its directory inside the (owner-only) services directory.
        chmod o+x "$SERVICES_DIR"
        chown postgres "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U dim --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
        tail -20 "$dir/initdb.log"
        echo "FAILED: initdb" >&2
        return 1
    }
    # fsync off: a test server's data dies with the run; what is tested is dim's transactions.
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start \
        >/dev/null || {
        tail -20 "$dir/postgres.log"
        echo "FAILED: PostgreSQL did not start" >&2
        return 1
    }
    PG_STOP=("${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop)
    export DIM_TEST_PG_URL="postgres://dim@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on $DIM_TEST_PG_URL"
}

stop_postgres() {
    if [ -n "${PG_STOP:-}" ]; then
        "${PG_STOP[@]}" >/dev/null 2>&1 || true
    fi
}
