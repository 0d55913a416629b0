#!/bin/sh
# Fake Open WebUI container entry point (PID 1, busybox ash).
#
# Mirrors what the real image does at the points owui-dev touches: backend/start.sh
# (secret key file), open_webui start-up logging, the lifespan start-up
# (config seeding, WEBUI_ADMIN_* bootstrap), then serving HTTP on $PORT (8080).
# The HTTP side is busybox `nc -ll -e`, which forks /app/fake/handler.sh per connection.
#
# Test knobs: FAKE_START_DELAY, FAKE_CRASH=start, FAKE_CRASH_AFTER, FAKE_EXIT_CODE,
# FAKE_CRASH_MESSAGE, FAKE_HEALTH_STATUS, FAKE_CONFIG_STATUS, FAKE_OWUI_VERSION, FAKE_LOG_HEALTH, FAKE_SPA_FALLBACK,
# FAKE_SIGNIN_HOLD (handler.sh).

cd /app/backend 2>/dev/null || cd /
. /app/fake/lib.sh

PORT="${PORT:-8080}"
EXIT_CODE="${FAKE_EXIT_CODE:-1}"
LISTENING=0
NC_PID=""
SLEEP_PID=""

kill_children() {
    for _p in $NC_PID $SLEEP_PID; do kill -9 "$_p" 2>/dev/null; done
}

on_term() {
    trap '' TERM INT USR1
    if [ "$LISTENING" = 1 ]; then
        logl INFO 'uvicorn.server:shutdown:263' 'Shutting down'
        logl INFO 'uvicorn.lifespan.on:shutdown:67' 'Waiting for application shutdown.'
        logl INFO 'uvicorn.lifespan.on:shutdown:76' 'Application shutdown complete.'
        logl INFO 'uvicorn.server:_serve:93' 'Finished server process [1]'
    fi
    kill_children
    # FAKE_STOP_DELAY: a slow shutdown (docker stop waits for it, up to its timeout).
    [ -n "${FAKE_STOP_DELAY:-}" ] && sleep "$FAKE_STOP_DELAY"
    exit 0
}

crash_now() { # crash_now REASON
    trap '' TERM INT USR1
    logl ERROR 'open_webui.main:lifespan:0' "Fatal error, shutting down: $1"
    echo 'Traceback (most recent call last):'
    echo '  File "/app/backend/open_webui/main.py", line 1, in <module>'
    echo "RuntimeError: fake Open WebUI crash ($1)"
    kill_children
    exit "$EXIT_CODE"
}

on_usr1() {
    _reason=$(cat "$RUN_DIR/crash_reason" 2>/dev/null)
    crash_now "${_reason:-crash requested}"
}

trap on_term TERM INT
trap on_usr1 USR1

# Sleep that a trapped signal interrupts at once.
nap() {
    sleep "$1" &
    SLEEP_PID=$!
    wait "$SLEEP_PID"
    SLEEP_PID=""
}

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
echo "$$" >"$RUN_DIR/pid" # PID 1 normally; not with `docker run --init`

# ------------------------------------------------------------ backend/start.sh: secret key
if [ -z "${WEBUI_SECRET_KEY:-}" ] && [ -z "${WEBUI_JWT_SECRET_KEY:-}" ]; then
    if [ -n "${WEBUI_SECRET_KEY_FILE:-}" ]; then
        KEY_FILE="$WEBUI_SECRET_KEY_FILE"
    elif [ -s .webui_secret_key ]; then
        KEY_FILE=".webui_secret_key"
    else
        KEY_FILE="${DATA_DIR:-./data}/.webui_secret_key"
    fi
    echo "No WEBUI_SECRET_KEY environment variable set, loading from file."
    if [ ! -s "$KEY_FILE" ]; then
        echo "Generating new WEBUI_SECRET_KEY..."
        mkdir -p "$(dirname "$KEY_FILE")"
        head -c "${WEBUI_SECRET_KEY_LENGTH:-24}" /dev/urandom | base64 -w 0 >"$KEY_FILE.tmp" &&
            chmod 640 "$KEY_FILE.tmp" && mv -f "$KEY_FILE.tmp" "$KEY_FILE"
    fi
    echo "Loading WEBUI_SECRET_KEY from ${KEY_FILE}"
    WEBUI_SECRET_KEY=$(cat "$KEY_FILE")
elif [ -z "${WEBUI_SECRET_KEY:-}" ]; then
    WEBUI_SECRET_KEY="$WEBUI_JWT_SECRET_KEY"
fi
export WEBUI_SECRET_KEY

mkdir -p "$DATA/uploads" "$DATA/cache" "$DATA/vector_db" "$STATE"
rmdir "$LOCK_DIR" 2>/dev/null # stale lock of a killed container

# ------------------------------------------------------------ python import phase
# Lines printed one per 0.5 s while FAKE_START_DELAY runs (the rest at once afterwards).
LINES="$RUN_DIR/startup_lines"
{
    echo 'INFO  [alembic.runtime.migration] Context impl SQLiteImpl.'
    echo 'INFO  [alembic.runtime.migration] Will assume non-transactional DDL.'
    if [ ! -f "$STATE/migrated" ]; then
        sed 's/^/INFO  [alembic.runtime.migration] /' "$FAKE_HOME/migrations.txt"
    fi
    echo 'INFO  [open_webui.env] VECTOR_DB: chroma'
    echo 'INFO  [open_webui.env] Embedding model set: sentence-transformers/all-MiniLM-L6-v2'
    printf 'WARNI [open_webui.env] \n\nWARNING: CORS_ALLOW_ORIGIN IS SET TO %s - NOT RECOMMENDED FOR PRODUCTION DEPLOYMENTS.\n\n' "'*'"
} >"$LINES"
: >"$STATE/migrated"

DELAY="${FAKE_START_DELAY:-0}"
TICKS=$(awk -v d="$DELAY" 'BEGIN { d += 0; if (d < 0) d = 0; printf "%d", d / 0.5 }')
REST=$(awk -v d="$DELAY" -v t="$TICKS" 'BEGIN { d += 0; r = d - t * 0.5; if (r < 0) r = 0; printf "%.3f", r }')
TOTAL_LINES=$(awk 'END { print NR }' "$LINES")
i=0
while [ "$i" -lt "$TICKS" ]; do
    i=$((i + 1))
    if [ "$i" -le "$TOTAL_LINES" ]; then
        sed -n "${i}p" "$LINES"
    else
        echo "INFO  [open_webui.env] Still loading... ($((i / 2))s)"
    fi
    nap 0.5
done
nap "$REST"
if [ "$i" -lt "$TOTAL_LINES" ]; then
    sed -n "$((i + 1)),\$p" "$LINES"
fi

if [ "${FAKE_CRASH:-}" = "start" ]; then
    echo 'Traceback (most recent call last):'
    echo '  File "<frozen runpy>", line 198, in _run_module_as_main'
    echo '  File "<frozen runpy>", line 88, in _run_code'
    echo '  File "/usr/local/lib/python3.11/site-packages/uvicorn/__main__.py", line 4, in <module>'
    echo '    uvicorn.main()'
    echo '  File "/usr/local/lib/python3.11/site-packages/uvicorn/importer.py", line 19, in import_from_string'
    echo '    module = importlib.import_module(module_str)'
    echo '  File "/app/backend/open_webui/main.py", line 62, in <module>'
    echo '    from open_webui.config import ('
    echo '  File "/app/backend/open_webui/config.py", line 83, in <module>'
    echo '    run_migrations()'
    echo '  File "/app/backend/open_webui/config.py", line 77, in run_migrations'
    echo "    command.upgrade(alembic_cfg, 'head')"
    echo "${FAKE_CRASH_MESSAGE:-sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) unable to open database file}"
    exit "$EXIT_CODE"
fi

cat <<EOF

 ██████╗ ██████╗ ███████╗███╗   ██╗    ██╗    ██╗███████╗██████╗ ██╗   ██╗██╗
██╔═══██╗██╔══██╗██╔════╝████╗  ██║    ██║    ██║██╔════╝██╔══██╗██║   ██║██║
██║   ██║██████╔╝█████╗  ██╔██╗ ██║    ██║ █╗ ██║█████╗  ██████╔╝██║   ██║██║
██║   ██║██╔═══╝ ██╔══╝  ██║╚██╗██║    ██║███╗██║██╔══╝  ██╔══██╗██║   ██║██║
╚██████╔╝██║     ███████╗██║ ╚████║    ╚███╔███╔╝███████╗██████╔╝╚██████╔╝██║
 ╚═════╝ ╚═╝     ╚══════╝╚═╝  ╚═══╝     ╚══╝╚══╝ ╚══════╝╚═════╝  ╚═════╝ ╚═╝


v${OWUI_VERSION} - building the best AI user interface.

https://github.com/open-webui/open-webui

EOF

# ------------------------------------------------------------ uvicorn + lifespan start-up
echo 'INFO:     Started server process [1]'
echo 'INFO:     Waiting for application startup.'
logl INFO 'open_webui.utils.logger:start_logger:225' "GLOBAL_LOG_LEVEL: ${GLOBAL_LOG_LEVEL:-INFO}"

if env_true ENABLE_PERSISTENT_CONFIG True && env_true RESET_CONFIG_ON_START False; then
    rm -f "$CONFIG_FILE"
fi
SEEDED=$(config_seed)
if [ "$SEEDED" -gt 0 ] && env_true ENABLE_PERSISTENT_CONFIG True; then
    logl INFO 'open_webui.models.config:seed_defaults:262' "Seeded $SEEDED new config defaults"
fi

# Create admin account from env vars if specified and no users exist (Open WebUI >= 0.7.0).
if ver_ge 0.7.0 && [ -n "${WEBUI_ADMIN_EMAIL:-}" ] && [ -n "${WEBUI_ADMIN_PASSWORD:-}" ]; then
    lock
    if [ "$(user_count)" -eq 0 ]; then
        logl INFO 'open_webui.utils.auth:create_admin_user:645' "Creating admin account from environment variables: $WEBUI_ADMIN_EMAIL"
        add_user "$(lower "$(json_escape "$WEBUI_ADMIN_EMAIL")")" "$(json_escape "${WEBUI_ADMIN_NAME-Admin}")" admin \
            "$(json_escape "$WEBUI_ADMIN_PASSWORD")" /user.png >/dev/null
        logl INFO 'open_webui.utils.auth:create_admin_user:655' "Admin account created successfully: $WEBUI_ADMIN_EMAIL"
        config_set ui.enable_signup false
    fi
    unlock
fi

logl INFO 'open_webui.main:lifespan:401' 'Installing external dependencies of functions and tools...'
logl INFO 'uvicorn.lifespan.on:startup:62' 'Application startup complete.'

# ------------------------------------------------------------ serve
# fd 3 = container stdout, for the handlers' access log (their fd 1 is the socket).
# busybox nc uses the number of -l flags as the listen() backlog: 64 of them.
NC_LISTEN="-$(awk 'BEGIN { for (i = 0; i < 64; i++) printf "l" }')"
nc "$NC_LISTEN" -p "$PORT" -e /app/fake/handler.sh 3>&1 &
NC_PID=$!
LISTENING=1
logl INFO 'uvicorn.server:_log_started_message:229' "Uvicorn running on http://0.0.0.0:${PORT} (Press CTRL+C to quit)"

if [ -n "${FAKE_CRASH_AFTER:-}" ]; then
    nap "$FAKE_CRASH_AFTER"
    crash_now "FAKE_CRASH_AFTER=${FAKE_CRASH_AFTER}s elapsed since start-up"
fi

while :; do
    wait "$NC_PID"
    if ! kill -0 "$NC_PID" 2>/dev/null; then
        logl ERROR 'uvicorn.server:startup:0' "listener on port ${PORT} died"
        exit "$EXIT_CODE"
    fi
done
