#!/bin/sh
# One HTTP/1.1 exchange of the fake Open WebUI (run by `nc -ll -e` per connection).
# stdin/stdout are the socket; fd 3 is the container's stdout (access log).
# Route behaviour follows open_webui/main.py and open_webui/routers/auths.py (0.12.x); the voice-call
# routes (models, audio, socket.io) are in voice.sh.

set -f
. /app/fake/lib.sh
. /app/fake/voice.sh

exec 4>&1 1>&3 3>&- # fd 4: socket (response), fd 1: container log

# ---------------------------------------------------------------- request
read -r -t 10 REQ_LINE || exit 0
REQ_LINE=${REQ_LINE%"$CR"}
# shellcheck disable=SC2086
set -- $REQ_LINE
METHOD="${1:-}"
TARGET="${2:-/}"
PROTO="${3:-HTTP/1.0}"
REQ_PATH=${TARGET%%\?*}

CONTENT_LENGTH=0
AUTHORIZATION=""
COOKIE=""
HOST_HDR=""
EXPECT=""
CONTENT_TYPE=""
UPGRADE=""
CONNECTION_HDR=""
WS_KEY=""
WS_VERSION=""
while read -r -t 10 H; do
    H=${H%"$CR"}
    [ -z "$H" ] && break
    NAME=$(lower "${H%%:*}")
    VALUE=${H#*:}
    VALUE=${VALUE# }
    case "$NAME" in
        content-length) CONTENT_LENGTH=$VALUE ;;
        authorization) AUTHORIZATION=$VALUE ;;
        cookie) COOKIE=$VALUE ;;
        host) HOST_HDR=$VALUE ;;
        expect) EXPECT=$(lower "$VALUE") ;;
        content-type) CONTENT_TYPE=$VALUE ;;
        upgrade) UPGRADE=$VALUE ;;
        connection) CONNECTION_HDR=$VALUE ;;
        sec-websocket-key) WS_KEY=$VALUE ;;
        sec-websocket-version) WS_VERSION=$VALUE ;;
    esac
done
case "$CONTENT_LENGTH" in '' | *[!0-9]*) CONTENT_LENGTH=0 ;; esac
# The body goes to a file first (shell variables cannot hold NUL bytes: uploads are binary).
REQ_BODY_FILE="$RUN_DIR/body.$$"
trap 'rm -f "$REQ_BODY_FILE"' EXIT
: >"$REQ_BODY_FILE"
BODY=""
if [ "$CONTENT_LENGTH" -gt 0 ]; then
    [ "$EXPECT" = "100-continue" ] && printf 'HTTP/1.1 100 Continue\r\n\r\n' >&4
    timeout 30 head -c "$CONTENT_LENGTH" >"$REQ_BODY_FILE"
    case "$(lower "$CONTENT_TYPE")" in
        multipart/*) ;;
        *) BODY=$(cat "$REQ_BODY_FILE") ;;
    esac
fi

# ---------------------------------------------------------------- response helpers
client_addr() {
    _ino=$(readlink "/proc/$$/fd/0" 2>/dev/null)
    _ino=${_ino#socket:\[}
    _ino=${_ino%\]}
    awk -v ino="$_ino" '
        function hex(h,    i, v) { v = 0; h = toupper(h)
            for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789ABCDEF", substr(h, i, 1)) - 1
            return v }
        $10 == ino { split($3, a, ":"); h = a[1]; if (length(h) == 32) h = substr(h, 25, 8)
            printf "%d.%d.%d.%d:%d", hex(substr(h, 7, 2)), hex(substr(h, 5, 2)), hex(substr(h, 3, 2)), hex(substr(h, 1, 2)), hex(a[2])
            found = 1; exit }
        END { if (!found) printf "172.17.0.1:0" }' /proc/net/tcp6 /proc/net/tcp 2>/dev/null
}

phrase() {
    case "$1" in
        200) echo OK ;; 307) echo Temporary Redirect ;; 400) echo Bad Request ;;
        401) echo Unauthorized ;; 403) echo Forbidden ;; 404) echo Not Found ;;
        405) echo Method Not Allowed ;; 422) echo Unprocessable Entity ;;
        429) echo Too Many Requests ;; 500) echo Internal Server Error ;;
        502) echo Bad Gateway ;; 503) echo Service Unavailable ;; *) echo Unknown ;;
    esac
}

# respond STATUS CONTENT_TYPE BODY [EXTRA_HEADER_LINES(\r\n terminated)]
respond() {
    _len=$(printf '%s' "$3" | wc -c)
    printf 'HTTP/1.1 %s %s\r\ndate: %s\r\nserver: uvicorn\r\ncontent-type: %s\r\ncontent-length: %s\r\n%sconnection: close\r\n\r\n%s' \
        "$1" "$(phrase "$1")" "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')" "$2" "$_len" "${4:-}" "$3" >&4
    # open_webui.config.EndpointFilter drops every access-log record containing "/health".
    case "$TARGET" in
        */health*) env_true FAKE_LOG_HEALTH False || return 0 ;;
    esac
    logl INFO 'uvicorn.protocols.http.httptools_impl:send:476' \
        "$(client_addr) - \"$METHOD $TARGET $PROTO\" $1"
}

json() { respond "$1" application/json "$2" "${3:-}"; }
detail() { json "$1" "{\"detail\":\"$2\"}"; }

method_not_allowed() { json 405 '{"detail":"Method Not Allowed"}' "allow: $1$CR
"; }

# Error texts of open_webui.constants.ERROR_MESSAGES
ACCESS_PROHIBITED='You do not have permission to access this resource. Please contact your administrator for assistance.'
ACTION_PROHIBITED='The requested action has been restricted as a security measure.'
EMAIL_TAKEN='Uh-oh! This email is already registered. Sign in with your existing account or choose another email to start anew.'
INVALID_CRED='The email or password provided is incorrect. Please check for typos and try logging in again.'
INVALID_EMAIL_FORMAT="The email format you entered is invalid. Please double-check and make sure you're using a valid email address (e.g., yourname@example.com)."
EXISTING_USERS="You can't turn off authentication because there are existing users. If you want to disable WEBUI_AUTH, make sure your web interface doesn't have any existing users and is a fresh installation."
INVALID_TOKEN='Your session has expired or the token is invalid. Please sign in again.'
UNAUTHORIZED='401 Unauthorized'
PASSWORD_TOO_LONG='Uh-oh! The password you entered is too long. Please make sure your password is less than 72 bytes long.'

# ---------------------------------------------------------------- body validation (pydantic-like 422)
# parse_form "email password name" -> sets J_* or answers 422 and returns 1
parse_form() {
    eval "$(printf '%s' "$BODY" | awk -v keys="$1" -f "$FAKE_HOME/json.awk")"
    if [ -n "${J__error:-}" ]; then
        json 422 "{\"detail\":[{\"type\":\"json_invalid\",\"loc\":[\"body\",0],\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":\"$J__error\"}}]}"
        return 1
    fi
    _errs=""
    for _k in $1; do
        eval "_t=\$J_${_k}_t"
        if [ -z "$_t" ]; then
            _e="{\"type\":\"missing\",\"loc\":[\"body\",\"$_k\"],\"msg\":\"Field required\",\"input\":null}"
        elif [ "$_t" != s ]; then
            _e="{\"type\":\"string_type\",\"loc\":[\"body\",\"$_k\"],\"msg\":\"Input should be a valid string\",\"input\":null}"
        else
            continue
        fi
        _errs="${_errs:+$_errs,}$_e"
    done
    if [ -n "$_errs" ]; then
        json 422 "{\"detail\":[$_errs]}"
        return 1
    fi
    return 0
}

# ---------------------------------------------------------------- auth helpers
b64url() { base64 -w 0 | tr -d '=' | tr '+/' '-_'; }

jwt_seconds() { # parse_duration of auth.jwt_expiry; empty output = no expiry
    printf '%s' "$1" | tr -d '"' | awk '{
        if ($0 == "-1" || $0 == "0" || $0 == "") exit
        if (match($0, /^[0-9]+(\.[0-9]+)?/)) { n = substr($0, 1, RLENGTH); u = substr($0, RLENGTH + 1) } else exit
        m = (u == "ms") ? 0.001 : (u == "s") ? 1 : (u == "m") ? 60 : (u == "h") ? 3600 : (u == "d") ? 86400 : (u == "w") ? 604800 : -1
        if (m < 0) exit
        printf "%d", n * m }'
}

# Stand-in for the HS256 signature: tokens only verify under the same WEBUI_SECRET_KEY.
token_signature() { printf '%s' "$WEBUI_SECRET_KEY.$1" | sha256sum | cut -c1-64 | xxd -r -p | b64url; }

# issue_session USER_ID SOURCE -> sets TOKEN and EXPIRES_AT (JWT-shaped, stored server side)
issue_session() {
    _now=$(now)
    _secs=$(jwt_seconds "$(config_get auth.jwt_expiry)")
    if [ -n "$_secs" ]; then EXPIRES_AT=$((_now + _secs)); _exp=",\"exp\":$EXPIRES_AT"; else EXPIRES_AT=null; _exp=""; fi
    _h=$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url)
    _p=$(printf '{"id":"%s","typ":"session","auth_method":"%s","auth_time":%s,"mfa_verified":false%s,"jti":"%s","iat":%s}' \
        "$1" "$2" "$_now" "$_exp" "$(new_uuid)" "$_now" | b64url)
    TOKEN="$_h.$_p.$(token_signature "$_h.$_p")"
    printf '%s\t%s\t%s\n' "$TOKEN" "$1" "$EXPIRES_AT" >>"$TOKENS_FILE"
}

request_token() {
    case "$AUTHORIZATION" in
        *" "*) _tok=${AUTHORIZATION#* }; case "$_tok" in *" "*) _tok="" ;; esac ;;
        *) _tok="" ;;
    esac
    if [ -z "$_tok" ]; then
        _tok=$(printf '%s' "$COOKIE" | tr ';' '\n' | sed -n 's/^ *token=//p' | head -n 1)
    fi
    printf '%s' "$_tok"
}

# resolve_user TOKEN -> 0 and USER_LINE set; 1 = undecodable/unknown token; 2 = user gone; 3 = expired
resolve_user() {
    USER_LINE=""
    [ -n "$1" ] && [ -f "$TOKENS_FILE" ] || return 1
    [ "$(token_signature "${1%.*}")" = "${1##*.}" ] || return 1
    _row=$(T="$1" awk -F '\t' '$1 == ENVIRON["T"] { print $2 "\t" $3; exit }' "$TOKENS_FILE")
    [ -n "$_row" ] || return 1
    _uid=${_row%%"$TAB"*}
    _exp=${_row#*"$TAB"}
    if [ "$_exp" != null ] && [ "$(now)" -gt "$_exp" ]; then return 3; fi
    USER_LINE=$(user_by_id "$_uid")
    [ -n "$USER_LINE" ] || return 2
    return 0
}

user_field() { printf '%s' "$USER_LINE" | cut -f "$1"; }

# utils/auth.py get_current_user: the session user, or a 401 answered (returns 1).
authenticate() {
    AUTH_TOKEN=$(request_token)
    if [ -z "$AUTH_TOKEN" ]; then detail 401 'Not authenticated'; return 1; fi
    resolve_user "$AUTH_TOKEN"
    case $? in
        0) return 0 ;;
        # is_valid_token (utils/auth.py:272-281) looks the account's sign-in up first: gone -> utils/mfa.py:128-129
        2) detail 401 'Invalid authentication request.' ;;
        3) detail 401 "$INVALID_TOKEN" ;;
        *) detail 401 "$UNAUTHORIZED" ;;
    esac
    return 1
}
# get_verified_user (roles user, admin) and get_admin_user: others get 401 with ACCESS_PROHIBITED.
verified_user() {
    authenticate || return 1
    case "$(user_field 4)" in admin | user) return 0 ;; esac
    detail 401 "$ACCESS_PROHIBITED"
    return 1
}
admin_user() {
    authenticate || return 1
    [ "$(user_field 4)" = admin ] && return 0
    detail 401 "$ACCESS_PROHIBITED"
    return 1
}

session_json() { # session_json TOKEN EXPIRES_AT PROFILE_URL [extra]
    printf '{"token":"%s","token_type":"Bearer","expires_at":%s,"id":"%s","email":"%s","name":"%s","role":"%s","profile_image_url":"%s"%s,"permissions":%s}' \
        "$1" "$2" "$(user_field 1)" "$(user_field 2)" "$(user_field 3)" "$(user_field 4)" "$3" "${4:-}" "$PERMISSIONS_JSON"
}

signin_response() { # signin_response USER_ID SOURCE
    USER_LINE=$(user_by_id "$1")
    issue_session "$1" "$2"
    _max=""
    [ "$EXPIRES_AT" != null ] && _max="; Max-Age=$((EXPIRES_AT - $(now)))"
    json 200 "$(session_json "$TOKEN" "$EXPIRES_AT" "/api/v1/users/$1/profile/image")" \
        "set-cookie: token=$TOKEN; HttpOnly$_max; Path=/; SameSite=lax$CR
"
}

valid_email() {
    case "$1" in *@localhost) return 0 ;; esac
    printf '%s' "$1" | grep -Eq '^[^@]+@[^@]+\.[^@]+'
}

# signup_handler EMAIL NAME PASSWORD PROFILE_URL -> sets NEW_ID (first user becomes admin, signup closes)
signup_handler() {
    lock
    NEW_ID=$(add_user "$1" "$2" "$(config_get ui.default_user_role | sed 's/^"//; s/"$//')" "$3" "$4")
    if [ "$(user_count)" -eq 1 ]; then
        set_user_role "$NEW_ID" admin
        config_set ui.enable_signup false
    fi
    unlock
}

# ---------------------------------------------------------------- routes
health() {
    _st="${FAKE_HEALTH_STATUS:-200}"
    if [ "$_st" = 200 ]; then json 200 '{"status":true}'; else json "$_st" "{\"detail\":\"$(phrase "$_st")\"}"; fi
}

index_html() {
    respond 200 'text/html; charset=utf-8' "$(cat /app/build/index.html)" "cache-control: no-cache$CR
"
}

webui_name() {
    _n="${WEBUI_NAME:-Open WebUI}"
    [ "$_n" != "Open WebUI" ] && _n="$_n (Open WebUI)"
    json_escape "$_n"
}

route_config() {
    # FAKE_CONFIG_STATUS: /api/config answers that status instead (what a proxy in front, say, could answer).
    if [ -n "${FAKE_CONFIG_STATUS:-}" ]; then
        json "$FAKE_CONFIG_STATUS" "{\"detail\":\"$(phrase "$FAKE_CONFIG_STATUS")\"}"
        return
    fi
    _tok=$(request_token)
    USER_LINE=""
    resolve_user "$_tok"
    _role=""
    [ -n "$USER_LINE" ] && _role=$(user_field 4)
    _onb=""
    if [ -z "$USER_LINE" ] && [ "$(user_count)" -eq 0 ]; then _onb='"onboarding":true,'; fi
    if env_true WEBUI_AUTH True; then _auth=true; else _auth=false; fi
    if env_true ENABLE_SIGNUP_PASSWORD_CONFIRMATION False; then _spc=true; else _spc=false; fi
    if env_true ENABLE_WEBSOCKET_SUPPORT True; then _ws=true; else _ws=false; fi
    _hdr=""
    [ -n "${WEBUI_AUTH_TRUSTED_EMAIL_HEADER:-}" ] && _hdr=true
    if env_true USE_SLIM_DOCKER False; then _slim=true; else _slim=false; fi
    _features="\"slim\":$_slim,\"auth\":$_auth,\"auth_trusted_header\":${_hdr:-false},\"enable_signup_password_confirmation\":$_spc,\"enable_ldap\":$(config_get ldap.enable),\"enable_signup\":$(config_get ui.enable_signup),\"enable_login_form\":$(config_get ui.enable_login_form),\"enable_websocket\":$_ws"
    _extra=""
    if [ -n "$USER_LINE" ]; then
        _features="$_features,\"enable_api_keys\":$(config_get auth.enable_api_keys),\"enable_password_change_form\":$(config_get ui.enable_password_change_form),\"enable_version_update_check\":true,\"enable_community_sharing\":true,\"enable_message_rating\":true,\"enable_folders\":true,\"enable_notes\":true,\"enable_memories\":true,\"enable_channels\":false,\"enable_web_search\":false,\"enable_code_execution\":true,\"enable_code_interpreter\":true,\"enable_image_generation\":false,\"enable_admin_export\":true,\"enable_admin_chat_access\":true"
        case "$_role" in
            admin | user) _extra=",\"default_models\":null,\"default_pinned_models\":null,\"default_prompt_suggestions\":null,\"permissions\":$PERMISSIONS_JSON" ;;
        esac
    fi
    json 200 "{$_onb\"status\":true,\"name\":\"$(webui_name)\",\"version\":\"$OWUI_VERSION\",\"default_locale\":\"$(json_escape "${DEFAULT_LOCALE:-}")\",\"i18n\":{},\"oauth\":{\"providers\":{},\"auto_redirect\":false},\"features\":{$_features}$_extra}"
}

route_session_user() {
    authenticate || return
    _tok=$AUTH_TOKEN
    _exp=$(T="$_tok" awk -F '\t' '$1 == ENVIRON["T"] { print $3; exit }' "$TOKENS_FILE")
    json 200 "$(session_json "$_tok" "${_exp:-null}" "$(user_field 7)" ',"bio":null,"gender":null,"date_of_birth":null,"status_emoji":null,"status_message":null,"status_expires_at":null')"
}

route_signup() {
    parse_form "name email password" || return
    _email=$(lower "$J_email")
    _has_users=0
    [ "$(user_count)" -gt 0 ] && _has_users=1
    if env_true WEBUI_AUTH True; then
        _su=$(config_get ui.enable_signup)
        _lf=$(config_get ui.enable_login_form)
        if [ "$_has_users" = 1 ]; then
            if [ "$_su" != true ] || [ "$_lf" != true ]; then detail 403 "$ACCESS_PROHIBITED"; return; fi
        elif ver_ge 0.9.6; then
            # "Don't gate the first admin on ENABLE_SIGNUP" (0.9.6+)
            if [ "$_lf" != true ] && ! env_true ENABLE_INITIAL_ADMIN_SIGNUP False; then detail 403 "$ACCESS_PROHIBITED"; return; fi
        else
            if [ "$_su" != true ] || [ "$_lf" != true ]; then
                if ! ver_ge 0.6.26 || ! env_true ENABLE_INITIAL_ADMIN_SIGNUP False; then detail 403 "$ACCESS_PROHIBITED"; return; fi
            fi
        fi
    elif [ "$_has_users" = 1 ]; then
        detail 403 "$ACCESS_PROHIBITED"; return
    fi
    if ! valid_email "$_email"; then detail 400 "$INVALID_EMAIL_FORMAT"; return; fi
    if [ -n "$(user_by_email "$_email")" ]; then detail 400 "$EMAIL_TAKEN"; return; fi
    if [ "$(printf '%s' "$J_password" | wc -c)" -gt 72 ]; then detail 400 "$PASSWORD_TOO_LONG"; return; fi
    signup_handler "$_email" "$J_name" "$J_password" /user.png
    signin_response "$NEW_ID" password
}

route_signin() {
    parse_form "email password" || return
    # FAKE_SIGNIN_HOLD=FILE: the sign-in answers only once FILE exists (a test releases it), so that a test can
    # see what goes on meanwhile. Only this request waits: each connection has a handler of its own.
    if [ -n "${FAKE_SIGNIN_HOLD:-}" ]; then
        while [ ! -e "$FAKE_SIGNIN_HOLD" ]; do sleep 0.1; done
    fi
    if ! env_true ENABLE_PASSWORD_AUTH True; then detail 403 "$ACTION_PROHIBITED"; return; fi
    if env_true WEBUI_AUTH True; then
        _email=$(lower "$J_email")
        _pw="$J_password"
        _src=password
    else
        # WEBUI_AUTH=False: everybody signs in as the single admin@localhost (password "admin").
        _email=admin@localhost
        _pw=admin
        _src=system
        if [ -z "$(user_by_email "$_email")" ]; then
            if [ "$(user_count)" -gt 0 ]; then detail 400 "$EXISTING_USERS"; return; fi
            signup_handler "$_email" User "$_pw" /user.png
        fi
    fi
    USER_LINE=$(user_by_email "$_email")
    if [ -n "$USER_LINE" ] && verify_password "$_pw" "$(user_field 5)"; then
        signin_response "$(user_field 1)" "$_src"
    else
        detail 400 "$INVALID_CRED"
    fi
}

# POST /api/v1/auths/add (admin): an account with the given role (default pending); answers it with a token.
route_add_user() {
    admin_user || return
    parse_form "name email password" || return
    eval "$(printf '%s' "$BODY" | awk -v keys="role" -f "$FAKE_HOME/json.awk")"
    _role=pending
    # shellcheck disable=SC2154
    [ "$J_role_t" = s ] && _role=$J_role
    _email=$(lower "$J_email")
    if ! valid_email "$_email"; then detail 400 "$INVALID_EMAIL_FORMAT"; return; fi
    if [ -n "$(user_by_email "$_email")" ]; then detail 400 "$EMAIL_TAKEN"; return; fi
    lock
    _id=$(add_user "$_email" "$J_name" "$_role" "$J_password" /user.png)
    unlock
    issue_session "$_id" password
    USER_LINE=$(user_by_id "$_id")
    json 200 "{\"id\":\"$_id\",\"name\":\"$(user_field 3)\",\"role\":\"$(user_field 4)\",\"email\":\"$(user_field 2)\",\"profile_image_url\":\"/api/v1/users/$_id/profile/image\",\"token\":\"$TOKEN\",\"token_type\":\"Bearer\"}"
}

# DELETE /api/v1/users/{id} (admin; routers/users.py:1057-1099): never the first user nor oneself (403
# ACTION_PROHIBITED); the user, its sign-in and its chats go (models/users.py:849-863: the fake keeps no
# chats, but the user's settings and sessions go with it). An unknown id still answers `true` (the
# deletes simply match nothing).
route_delete_user() {
    admin_user || return
    _target=${REQ_PATH#/api/v1/users/}
    _first=$(head -n 1 "$USERS_FILE" | cut -f 1)
    if [ "$_target" = "$_first" ] || [ "$_target" = "$(user_field 1)" ]; then detail 403 "$ACTION_PROHIBITED"; return; fi
    lock
    I="$_target" awk -F '\t' '$1 != ENVIRON["I"]' "$USERS_FILE" >"$USERS_FILE.tmp.$$" && mv -f "$USERS_FILE.tmp.$$" "$USERS_FILE"
    rm -f "$STATE/settings/$_target.json"
    unlock
    json 200 true
}

route_signout() {
    _tok=$(request_token)
    if [ -n "$_tok" ] && [ -f "$TOKENS_FILE" ]; then
        lock
        T="$_tok" awk -F '\t' '$1 != ENVIRON["T"]' "$TOKENS_FILE" >"$TOKENS_FILE.tmp.$$" && mv -f "$TOKENS_FILE.tmp.$$" "$TOKENS_FILE"
        unlock
    fi
    json 200 '{"status":true}' "set-cookie: token=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=lax$CR
"
}

# GET /api/v1/users/user/settings and POST /api/v1/users/user/settings/update (routers/users.py:465-557,
# models/users.py:825-847): per user, kept on the data volume; `ui` is patched key by key (settings.awk).
# (The admin's ui.default_interface_settings, merged into the GET answer when set, has no stand-in here.)
settings_file() { printf '%s/settings/%s.json' "$STATE" "$(user_field 1)"; }

route_user_settings() {
    verified_user || return
    json 200 "$(awk -v mode=show -v current="$(settings_file)" -f "$FAKE_HOME/settings.awk" </dev/null)"
}

route_update_user_settings() {
    verified_user || return
    _file=$(settings_file)
    mkdir -p "${_file%/*}"
    lock
    _out=$(awk -v mode=update -v current="$_file" -f "$FAKE_HOME/settings.awk" <"$REQ_BODY_FILE")
    case "$_out" in
        "ERROR "*) unlock; json 422 "{\"detail\":[${_out#ERROR }]}"; return ;;
    esac
    printf '%s\n' "$_out" | sed -n 1p >"$_file.tmp.$$" && mv -f "$_file.tmp.$$" "$_file"
    unlock
    json 200 "$(printf '%s\n' "$_out" | sed -n 2p)"
}

route_crash() {
    json 200 "{\"status\":true,\"detail\":\"crashing with exit code ${FAKE_EXIT_CODE:-1}\"}"
    exec 4>&- 0<&-
    echo "POST /__fake__/crash" >"$RUN_DIR/crash_reason"
    sleep 0.1
    kill -USR1 "$(cat "$RUN_DIR/pid")"
}

case "$REQ_PATH" in
    /health | /health/db | /ready)
        if [ "$METHOD" = GET ]; then health; else method_not_allowed GET; fi ;;
    / | /index.html)
        if [ "$METHOD" = GET ]; then index_html; else method_not_allowed GET; fi ;;
    /api/config)
        if [ "$METHOD" = GET ]; then route_config; else method_not_allowed GET; fi ;;
    /api/version)
        if [ "$METHOD" = GET ]; then json 200 "{\"version\":\"$OWUI_VERSION\",\"deployment_id\":\"$(json_escape "${DEPLOYMENT_ID:-}")\"}"; else method_not_allowed GET; fi ;;
    /api/v1/auths)
        json 307 '' "location: http://${HOST_HDR:-localhost:$PORT}/api/v1/auths/$CR
" ;;
    /api/v1/auths/)
        if [ "$METHOD" = GET ]; then route_session_user; else method_not_allowed GET; fi ;;
    /api/v1/auths/signup)
        if [ "$METHOD" = POST ]; then route_signup; else method_not_allowed POST; fi ;;
    /api/v1/auths/signin)
        if [ "$METHOD" = POST ]; then route_signin; else method_not_allowed POST; fi ;;
    /api/v1/auths/signout)
        if [ "$METHOD" = POST ]; then route_signout; else method_not_allowed POST; fi ;;
    /api/v1/auths/add)
        if [ "$METHOD" = POST ]; then route_add_user; else method_not_allowed POST; fi ;;
    /api/v1/users/user/settings)
        if [ "$METHOD" = GET ]; then route_user_settings; else method_not_allowed GET; fi ;;
    /api/v1/users/user/settings/update)
        if [ "$METHOD" = POST ]; then route_update_user_settings; else method_not_allowed POST; fi ;;
    /api/v1/users/*/*) detail 404 'Not Found' ;;
    /api/v1/users/?*)
        if [ "$METHOD" = DELETE ]; then route_delete_user; else method_not_allowed DELETE; fi ;;
    /ollama/config)
        if [ "$METHOD" = GET ]; then route_ollama_config; else method_not_allowed GET; fi ;;
    /openai/config)
        if [ "$METHOD" = GET ]; then route_openai_config; else method_not_allowed GET; fi ;;
    /api/models | /api/v1/models)
        if [ "$METHOD" = GET ]; then route_models; else method_not_allowed GET; fi ;;
    /api/v1/audio/config)
        if [ "$METHOD" = GET ]; then route_audio_config; else method_not_allowed GET; fi ;;
    /api/v1/audio/transcriptions)
        if [ "$METHOD" = POST ]; then route_transcriptions; else method_not_allowed POST; fi ;;
    /ws/socket.io | /ws/socket.io/*)
        route_socketio ;;
    /__fake__/crash)
        if [ "$METHOD" = POST ]; then route_crash; else method_not_allowed POST; fi ;;
    *)
        # The real image serves the SPA's index.html for unknown non-.js paths (SPAStaticFiles).
        if env_true FAKE_SPA_FALLBACK False && [ "$METHOD" = GET ] && case "$REQ_PATH" in *.js) false ;; *) true ;; esac; then
            index_html
        else
            detail 404 'Not Found'
        fi ;;
esac
exit 0
