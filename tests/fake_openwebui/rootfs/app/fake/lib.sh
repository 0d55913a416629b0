# Shared helpers of the fake Open WebUI (busybox ash). Sourced by start.sh and handler.sh.
# shellcheck shell=sh

FAKE_HOME=/app/fake
RUN_DIR=/tmp/fake-openwebui
DATA="${DATA_DIR:-/app/backend/data}"
STATE="$DATA/fake-openwebui"
USERS_FILE="$STATE/users"
TOKENS_FILE="$STATE/tokens"
LOCK_DIR="$STATE/.lock"
OWUI_VERSION="${FAKE_OWUI_VERSION:-0.12.4}"
TAB=$(printf '\t')
CR=$(printf '\r')

# Python-style boolean env parsing: os.getenv(NAME, DEFAULT).lower() == 'true'
env_true() {
    eval "_v=\${$1-$2}"
    # shellcheck disable=SC2154
    case "$_v" in [Tt][Rr][Uu][Ee]) return 0 ;; *) return 1 ;; esac
}

# ver_ge X.Y.Z: true when OWUI_VERSION >= X.Y.Z
ver_ge() {
    awk -v a="$OWUI_VERSION" -v b="$1" 'BEGIN {
        na = split(a, x, "."); nb = split(b, y, ".")
        for (i = 1; i <= 3; i++) { xi = x[i] + 0; yi = y[i] + 0
            if (xi > yi) exit 0; if (xi < yi) exit 1 }
        exit 0 }'
}

# Loguru-style timestamp, as Open WebUI's stdout_format prints it.
ts() {
    _ms=$(awk '{ printf "%03d", ($1 * 1000) % 1000 }' /proc/uptime 2>/dev/null)
    printf '%s.%s' "$(date '+%Y-%m-%d %H:%M:%S')" "${_ms:-000}"
}

# logl LEVEL 'module:function:line' MESSAGE   (loguru format of open_webui.utils.logger)
logl() {
    printf '%s | %-8s | %s - %s\n' "$(ts)" "$1" "$2" "$3"
}

# JSON-escape a plain string (env values) so it can be stored next to raw JSON strings.
json_escape() {
    printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e "s/$TAB/\\\\t/g" | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}

lower() { printf '%s' "$1" | tr 'A-Z' 'a-z'; }

new_uuid() { cat /proc/sys/kernel/random/uuid; }

now() { date +%s; }

# ---------------------------------------------------------------- locking
lock() {
    _i=0
    until mkdir "$LOCK_DIR" 2>/dev/null; do
        _i=$((_i + 1))
        if [ "$_i" -gt 250 ]; then rmdir "$LOCK_DIR" 2>/dev/null; _i=0; fi
        sleep 0.02
    done
}
unlock() { rmdir "$LOCK_DIR" 2>/dev/null; }

# ---------------------------------------------------------------- config
# Open WebUI >= 0.12 keeps config as per-key rows in the DB ("config" table).
# ENABLE_PERSISTENT_CONFIG=False makes Config.get return the env defaults and
# Config.upsert only change the in-memory defaults; we emulate "in memory"
# with a file under /tmp that start.sh recreates at every start.
if env_true ENABLE_PERSISTENT_CONFIG True; then
    CONFIG_FILE="$STATE/config"
else
    CONFIG_FILE="$RUN_DIR/config"
fi

# Default values (JSON literals) as config.py computes them from the env.
config_default() {
    case "$1" in
        ui.enable_signup)
            if env_true WEBUI_AUTH True && env_true ENABLE_SIGNUP True; then echo true; else echo false; fi ;;
        ui.enable_login_form) if env_true ENABLE_LOGIN_FORM True; then echo true; else echo false; fi ;;
        ui.default_user_role) printf '"%s"\n' "$(json_escape "${DEFAULT_USER_ROLE:-pending}")" ;;
        auth.jwt_expiry) printf '"%s"\n' "$(json_escape "${JWT_EXPIRES_IN:-4w}")" ;;
        auth.enable_api_keys) if env_true ENABLE_API_KEYS False; then echo true; else echo false; fi ;;
        ui.enable_password_change_form) if env_true ENABLE_PASSWORD_CHANGE_FORM True; then echo true; else echo false; fi ;;
        ldap.enable) if env_true ENABLE_LDAP false; then echo true; else echo false; fi ;;
        *) echo null ;;
    esac
}
CONFIG_KEYS="ui.enable_signup ui.enable_login_form ui.default_user_role auth.jwt_expiry auth.enable_api_keys ui.enable_password_change_form ldap.enable"

config_get() {
    _v=""
    [ -f "$CONFIG_FILE" ] && _v=$(K="$1" awk -F '\t' '$1 == ENVIRON["K"] { v = $2 } END { if (v != "") print v }' "$CONFIG_FILE")
    if [ -n "$_v" ]; then printf '%s\n' "$_v"; else config_default "$1"; fi
}

# config_set KEY JSON_VALUE  (caller holds the lock)
config_set() {
    mkdir -p "$(dirname "$CONFIG_FILE")"
    touch "$CONFIG_FILE"
    K="$1" V="$2" awk -F '\t' -v OFS='\t' '
        $1 == ENVIRON["K"] { if (!done) print $1, ENVIRON["V"]; done = 1; next }
        { print }
        END { if (!done) print ENVIRON["K"], ENVIRON["V"] }' "$CONFIG_FILE" >"$CONFIG_FILE.tmp.$$" &&
        mv -f "$CONFIG_FILE.tmp.$$" "$CONFIG_FILE"
}

# Seed missing keys (Config.seed_defaults); prints how many were added.
config_seed() {
    mkdir -p "$(dirname "$CONFIG_FILE")"
    touch "$CONFIG_FILE"
    _n=0
    for _k in $CONFIG_KEYS; do
        if ! K="$_k" awk -F '\t' '$1 == ENVIRON["K"] { f = 1 } END { exit !f }' "$CONFIG_FILE"; then
            printf '%s\t%s\n' "$_k" "$(config_default "$_k")" >>"$CONFIG_FILE"
            _n=$((_n + 1))
        fi
    done
    echo "$_n"
}

# ---------------------------------------------------------------- users
# users file: id TAB email TAB name TAB role TAB pwhash TAB created_at TAB profile_image_url
# email/name are kept JSON-escaped (exactly as received), so they never contain tabs/newlines.
user_count() {
    if [ -s "$USERS_FILE" ]; then awk 'END { print NR }' "$USERS_FILE"; else echo 0; fi
}
user_by_email() {
    [ -f "$USERS_FILE" ] && E="$1" awk -F '\t' '$2 == ENVIRON["E"] { print; exit }' "$USERS_FILE"
}
user_by_id() {
    [ -f "$USERS_FILE" ] && I="$1" awk -F '\t' '$1 == ENVIRON["I"] { print; exit }' "$USERS_FILE"
}

hash_password() { # hash_password RAW_JSON_ESCAPED_PASSWORD [SALT]
    _salt="${2:-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
    printf 'sha256$%s$%s' "$_salt" "$(printf '%s%s' "$_salt" "$1" | sha256sum | cut -c1-64)"
}
verify_password() { # verify_password RAW HASH
    _salt=$(printf '%s' "$2" | cut -d '$' -f 2)
    [ "$(hash_password "$1" "$_salt")" = "$2" ]
}

# add_user EMAIL NAME ROLE PASSWORD PROFILE_IMAGE_URL -> prints the new id (caller holds the lock)
add_user() {
    _id=$(new_uuid)
    _line=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$_id" "$1" "$2" "$3" "$(hash_password "$4")" "$(now)" "${5:-/user.png}")
    mkdir -p "$STATE"
    { [ -f "$USERS_FILE" ] && cat "$USERS_FILE"; printf '%s\n' "$_line"; } >"$USERS_FILE.tmp.$$" &&
        mv -f "$USERS_FILE.tmp.$$" "$USERS_FILE"
    echo "$_id"
}

set_user_role() { # set_user_role ID ROLE (caller holds the lock)
    I="$1" R="$2" awk -F '\t' -v OFS='\t' '$1 == ENVIRON["I"] { $4 = ENVIRON["R"] } { print }' "$USERS_FILE" >"$USERS_FILE.tmp.$$" &&
        mv -f "$USERS_FILE.tmp.$$" "$USERS_FILE"
}

# Default permissions of open_webui.config.DEFAULT_USER_PERMISSIONS (env defaults).
PERMISSIONS_JSON='{"workspace":{"models":false,"knowledge":false,"prompts":false,"tools":false,"skills":false,"models_import":false,"models_export":false,"models_hidden":false,"prompts_import":false,"prompts_export":false,"tools_import":false,"tools_export":false,"skills_import":false,"skills_export":false},"sharing":{"models":false,"public_models":false,"knowledge":false,"public_knowledge":false,"prompts":false,"public_prompts":false,"tools":false,"public_tools":false,"skills":false,"public_skills":false,"notes":false,"public_notes":false,"folders":false,"public_chats":false,"open_chats":false,"public_calendars":false},"access_grants":{"allow_users":true,"allow_groups":true},"chat":{"controls":true,"valves":true,"system_prompt":true,"params":true,"file_upload":true,"web_upload":true,"delete":true,"delete_message":true,"continue_response":true,"regenerate_response":true,"rate_response":true,"edit":true,"share":true,"export":true,"import":true,"stt":true,"tts":true,"call":true,"multiple_models":true,"temporary":true,"temporary_enforced":false},"features":{"api_keys":false,"notes":true,"folders":true,"channels":true,"encrypted_channels":false,"direct_tool_servers":false,"web_search":true,"image_generation":true,"code_interpreter":true,"memories":true,"automations":false,"calendar":true,"webhooks":false},"settings":{"interface":true}}'
