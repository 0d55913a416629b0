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
        # Model connections (config.py OLLAMA_BASE_URL / OPENAI_API sections).
        ollama.enable) if env_true ENABLE_OLLAMA_API True; then echo true; else echo false; fi ;;
        ollama.base_urls) jlist "$(ollama_base_urls)" ';' ;;
        openai.enable) if env_true ENABLE_OPENAI_API True; then echo true; else echo false; fi ;;
        openai.api_base_urls) jlist "$(openai_base_urls)" ';' ;;
        openai.api_keys) jlist "${OPENAI_API_KEYS:-${OPENAI_API_KEY-}}" ';' ;;
        # Audio (config.py "Audio" section; the key maps of routers/audio/__init__.py).
        audio.stt.openai.api_base_url) jstr "${AUDIO_STT_OPENAI_API_BASE_URL-https://api.openai.com/v1}" ;;
        audio.stt.openai.api_key) jstr "${AUDIO_STT_OPENAI_API_KEY-$(openai_default_key)}" ;;
        audio.stt.openai.api_request_format) jstr "${AUDIO_STT_OPENAI_API_REQUEST_FORMAT-multipart}" ;;
        audio.stt.engine) jstr "${AUDIO_STT_ENGINE-}" ;;
        audio.stt.model) jstr "${AUDIO_STT_MODEL-}" ;;
        audio.stt.supported_content_types) jlist "${AUDIO_STT_SUPPORTED_CONTENT_TYPES-}" ',' ;;
        audio.stt.allowed_extensions) jlist "${AUDIO_STT_ALLOWED_EXTENSIONS-mp3,wav,m4a,webm,ogg,flac,mp4,mpga,mpeg}" ',' ;;
        audio.stt.whisper_model) jstr "${WHISPER_MODEL-base}" ;;
        audio.stt.deepgram.api_key) jstr "${DEEPGRAM_API_KEY-}" ;;
        audio.stt.azure.api_key) jstr "${AUDIO_STT_AZURE_API_KEY-}" ;;
        audio.stt.azure.region) jstr "${AUDIO_STT_AZURE_REGION-}" ;;
        audio.stt.azure.locales) jstr "${AUDIO_STT_AZURE_LOCALES-}" ;;
        audio.stt.azure.base_url) jstr "${AUDIO_STT_AZURE_BASE_URL-}" ;;
        audio.stt.azure.max_speakers) jstr "${AUDIO_STT_AZURE_MAX_SPEAKERS-}" ;;
        audio.stt.mistral.api_key) jstr "${AUDIO_STT_MISTRAL_API_KEY-}" ;;
        audio.stt.mistral.api_base_url) jstr "${AUDIO_STT_MISTRAL_API_BASE_URL-https://api.mistral.ai/v1}" ;;
        audio.stt.mistral.use_chat_completions) if env_true AUDIO_STT_MISTRAL_USE_CHAT_COMPLETIONS false; then echo true; else echo false; fi ;;
        audio.tts.openai.api_base_url) jstr "${AUDIO_TTS_OPENAI_API_BASE_URL-https://api.openai.com/v1}" ;;
        audio.tts.openai.api_key) jstr "${AUDIO_TTS_OPENAI_API_KEY-$(openai_default_key)}" ;;
        audio.tts.openai.params) json_or "${AUDIO_TTS_OPENAI_PARAMS-}" '{}' ;;
        audio.tts.api_key) jstr "${AUDIO_TTS_API_KEY-}" ;;
        audio.tts.engine) jstr "${AUDIO_TTS_ENGINE-}" ;;
        audio.tts.model) jstr "${AUDIO_TTS_MODEL-tts-1}" ;;
        audio.tts.voice) jstr "${AUDIO_TTS_VOICE-alloy}" ;;
        audio.tts.realtime.prompt_template) jstr_or_null REALTIME_TTS_PROMPT_TEMPLATE ;;
        audio.tts.split_on) jstr "${AUDIO_TTS_SPLIT_ON-punctuation}" ;;
        audio.tts.azure.speech_region) jstr "${AUDIO_TTS_AZURE_SPEECH_REGION-}" ;;
        audio.tts.azure.speech_base_url) jstr "${AUDIO_TTS_AZURE_SPEECH_BASE_URL-}" ;;
        audio.tts.azure.speech_output_format) jstr "${AUDIO_TTS_AZURE_SPEECH_OUTPUT_FORMAT-audio-24khz-160kbitrate-mono-mp3}" ;;
        audio.tts.mistral.api_key) jstr "${AUDIO_TTS_MISTRAL_API_KEY-}" ;;
        audio.tts.mistral.api_base_url) jstr "${AUDIO_TTS_MISTRAL_API_BASE_URL-https://api.mistral.ai/v1}" ;;
        audio.realtime.enabled) if env_true AUDIO_REALTIME_ENABLED False; then echo true; else echo false; fi ;;
        audio.realtime.provider) jstr "${AUDIO_REALTIME_PROVIDER-openai}" ;;
        audio.realtime.auth_type) jstr "${AUDIO_REALTIME_AUTH_TYPE-api_key}" ;;
        audio.realtime.openai.api_base_url) jstr "${AUDIO_REALTIME_OPENAI_API_BASE_URL-https://api.openai.com/v1}" ;;
        audio.realtime.openai.api_key) jstr "${AUDIO_REALTIME_OPENAI_API_KEY-}" ;;
        audio.realtime.model) jstr "${AUDIO_REALTIME_MODEL-gpt-realtime-2.1-mini}" ;;
        audio.realtime.voice) jstr "${AUDIO_REALTIME_VOICE-marin}" ;;
        audio.realtime.transcription_model) jstr "${AUDIO_REALTIME_TRANSCRIPTION_MODEL-gpt-transcribe}" ;;
        audio.realtime.input_params) json_object_or_null "${AUDIO_REALTIME_INPUT_PARAMS-}" ;;
        audio.realtime.prompt_template) jstr_or_null REALTIME_CALL_PROMPT_TEMPLATE ;;
        *) echo null ;;
    esac
}
CONFIG_KEYS="ui.enable_signup ui.enable_login_form ui.default_user_role auth.jwt_expiry auth.enable_api_keys ui.enable_password_change_form ldap.enable"
CONFIG_KEYS="$CONFIG_KEYS ollama.enable ollama.base_urls openai.enable openai.api_base_urls openai.api_keys"
# The three key maps of routers/audio/__init__.py, in their order (GET /api/v1/audio/config keeps it).
STT_CONFIG_MAP="OPENAI_API_BASE_URL=audio.stt.openai.api_base_url OPENAI_API_KEY=audio.stt.openai.api_key OPENAI_API_REQUEST_FORMAT=audio.stt.openai.api_request_format ENGINE=audio.stt.engine MODEL=audio.stt.model SUPPORTED_CONTENT_TYPES=audio.stt.supported_content_types ALLOWED_EXTENSIONS=audio.stt.allowed_extensions WHISPER_MODEL=audio.stt.whisper_model DEEPGRAM_API_KEY=audio.stt.deepgram.api_key AZURE_API_KEY=audio.stt.azure.api_key AZURE_REGION=audio.stt.azure.region AZURE_LOCALES=audio.stt.azure.locales AZURE_BASE_URL=audio.stt.azure.base_url AZURE_MAX_SPEAKERS=audio.stt.azure.max_speakers MISTRAL_API_KEY=audio.stt.mistral.api_key MISTRAL_API_BASE_URL=audio.stt.mistral.api_base_url MISTRAL_USE_CHAT_COMPLETIONS=audio.stt.mistral.use_chat_completions"
TTS_CONFIG_MAP="OPENAI_API_BASE_URL=audio.tts.openai.api_base_url OPENAI_API_KEY=audio.tts.openai.api_key OPENAI_PARAMS=audio.tts.openai.params API_KEY=audio.tts.api_key ENGINE=audio.tts.engine MODEL=audio.tts.model VOICE=audio.tts.voice REALTIME_TTS_PROMPT_TEMPLATE=audio.tts.realtime.prompt_template SPLIT_ON=audio.tts.split_on AZURE_SPEECH_REGION=audio.tts.azure.speech_region AZURE_SPEECH_BASE_URL=audio.tts.azure.speech_base_url AZURE_SPEECH_OUTPUT_FORMAT=audio.tts.azure.speech_output_format MISTRAL_API_KEY=audio.tts.mistral.api_key MISTRAL_API_BASE_URL=audio.tts.mistral.api_base_url"
REALTIME_CONFIG_MAP="ENABLED=audio.realtime.enabled PROVIDER=audio.realtime.provider AUTH_TYPE=audio.realtime.auth_type OPENAI_API_BASE_URL=audio.realtime.openai.api_base_url OPENAI_API_KEY=audio.realtime.openai.api_key MODEL=audio.realtime.model VOICE=audio.realtime.voice TRANSCRIPTION_MODEL=audio.realtime.transcription_model INPUT_PARAMS=audio.realtime.input_params REALTIME_CALL_PROMPT_TEMPLATE=audio.realtime.prompt_template"
for _pair in $STT_CONFIG_MAP $TTS_CONFIG_MAP $REALTIME_CONFIG_MAP; do CONFIG_KEYS="$CONFIG_KEYS ${_pair#*=}"; done

# ---------------------------------------------------------------- JSON literals from env values
jstr() { printf '"%s"\n' "$(json_escape "$1")"; }
jstr_or_null() { # os.getenv(NAME) with no default: null when unset
    eval "_set=\${$1+x}"
    # shellcheck disable=SC2154
    if [ -n "$_set" ]; then eval "jstr \"\$$1\""; else echo null; fi
}
# jlist VALUE SEPARATOR: [item.strip() for item in VALUE.split(SEP)] (',' lists also drop empty items)
jlist() {
    printf '%s' "$1" | awk -v sep="$2" '
        function esc(v) { gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); gsub(/\t/, "\\t", v); return v }
        { s = (NR == 1) ? $0 : s "\n" $0 }
        END { n = split(s, a, sep); out = ""
            if (n == 0 && sep == ";") { n = 1; a[1] = "" }
            for (i = 1; i <= n; i++) { v = a[i]; gsub(/^[ \t\r\n]+|[ \t\r\n]+$/, "", v)
                if (sep == "," && v == "") continue
                out = out (out == "" ? "" : ",") "\"" esc(v) "\"" }
            print "[" out "]" }'
}
# json_or RAW FALLBACK: RAW when it is a JSON object (as JSONCodec.loads would accept), else FALLBACK
json_or() {
    if [ -n "$1" ] && printf '%s' "$1" | awk -f "$FAKE_HOME/json.awk" | grep -q '^J_'; then
        printf '%s\n' "$1" | tr -d '\n\t'; echo
    else echo "$2"; fi
}
json_object_or_null() { json_or "$1" null; }

# OPENAI_API_BASE_URLS as config.py builds it (';'-separated, before the list split).
openai_base_urls() {
    _base="${OPENAI_API_BASE_URL-}"
    if [ -z "$_base" ]; then _base=https://api.openai.com/v1; else _base=${_base%/}; fi
    _urls="${OPENAI_API_BASE_URLS:-$_base}"
    # url.strip() if url != '' else 'https://api.openai.com/v1'
    printf '%s' "$_urls" | awk -v RS=';' -v ORS=';' '{ sub(/\n$/, ""); if ($0 == "") print "https://api.openai.com/v1"; else print }' | sed 's/;$//'
}
# config.py: OPENAI_API_KEY = the key paired with https://api.openai.com/v1 (else ""), the default of the
# audio engines' OpenAI keys.
openai_default_key() {
    _keys="${OPENAI_API_KEYS:-${OPENAI_API_KEY-}}"
    openai_base_urls | awk -v RS=';' -v keys="$_keys" '
        BEGIN { n = split(keys, k, ";") }
        { u = $0; gsub(/^[ \t\n]+|[ \t\n]+$/, "", u); i++
          if (u == "https://api.openai.com/v1" && !done) { v = k[i]; gsub(/^[ \t]+|[ \t]+$/, "", v); printf "%s", v; done = 1 } }'
}

# OLLAMA_BASE_URLS as config.py resolves it: trailing slash, OLLAMA_API_BASE_URL fallback, the "/ollama"
# rewrite under ENV=prod, and (no explicit URL given) the 11434 -> 12434 port fallback.
ollama_base_urls() {
    _u="${OLLAMA_BASE_URL-}"
    _u=${_u%/}
    if [ -z "$_u" ]; then
        _api="${OLLAMA_API_BASE_URL-http://localhost:11434/api}"
        if [ -n "$_api" ]; then _u=${_api%/api}; fi
    fi
    if [ "${ENV-}" = prod ]; then
        if [ "$_u" = /ollama ] && [ -z "${K8S_FLAG-}" ]; then
            if [ "$(lower "${USE_OLLAMA_DOCKER-false}")" = true ]; then _u=http://localhost:11434; else _u=http://host.docker.internal:11434; fi
        elif [ -n "${K8S_FLAG-}" ]; then
            _u=http://ollama-service.open-webui.svc.cluster.local:11434
        fi
    fi
    case "${OLLAMA_BASE_URL-}" in
        '' | /ollama) [ -z "${OLLAMA_BASE_URLS-}" ] && _u=$(ollama_port_fallback "$_u") ;;
    esac
    printf '%s' "${OLLAMA_BASE_URLS:-$_u}"
}
url_host() { printf '%s' "$1" | sed -E 's#^[a-zA-Z]+://##; s#[/?].*##; s#^.*@##; s#^\[([^]]*)\].*#\1#; s#:[0-9]*$##'; }
tcp_reachable() { # tcp_reachable HOST PORT: a TCP connect within 1 s (socket.create_connection(timeout=1.0))
    timeout 2 nc -w 1 "$1" "$2" </dev/null >/dev/null 2>&1
    [ $? -ne 1 ]
}
ollama_port_fallback() {
    _h=$(url_host "$1")
    [ -n "$_h" ] || _h=localhost
    if ! tcp_reachable "$_h" 11434 && tcp_reachable "$_h" 12434; then
        printf '%s' "$1" | sed 's/:11434/:12434/'
    else
        printf '%s' "$1"
    fi
}

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
    _have=" $(cut -f 1 "$CONFIG_FILE" | tr '\n' ' ') "
    for _k in $CONFIG_KEYS; do
        case "$_have" in *" $_k "*) continue ;; esac
        printf '%s\t%s\n' "$_k" "$(config_default "$_k")" >>"$CONFIG_FILE"
        _n=$((_n + 1))
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
