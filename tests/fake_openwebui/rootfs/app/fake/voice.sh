# The routes of the fake Open WebUI on the voice-call path (sourced by handler.sh; busybox ash):
#   GET  /api/models                    main.py get_models + utils/models.py + routers/{ollama,openai}.py
#   GET  /api/v1/audio/config           routers/audio/__init__.py get_audio_config
#   POST /api/v1/audio/transcriptions   routers/audio/__init__.py transcription
#   GET  /ws/socket.io/                 socket/main.py (python-socketio 5.16 / python-engineio 4.x, ASGI)
# See tests/fake_openwebui/FACTS.md for the behaviour of the real 0.12.4 each piece follows.
# shellcheck shell=sh

# ---------------------------------------------------------------- JSON helpers
# The strings of a JSON array of strings, one per line (simple escapes undone).
json_strings() {
    printf '%s' "$1" | awk '{ s = s $0 } END {
        while (match(s, /"([^"\\]|\\.)*"/)) {
            v = substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH)
            gsub(/\\\//, "/", v); gsub(/\\"/, "\"", v); gsub(/\\\\/, "\\", v); print v } }'
}
json_unquote() { # a JSON string literal's text (simple escapes undone)
    _s=${1#\"}
    printf '%s' "${_s%\"}" | sed -e 's/\\"/"/g' -e 's#\\/#/#g' -e 's/\\\\/\\/g'
}

# ---------------------------------------------------------------- GET /api/models
model_list_timeout() {
    # AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST (or ..._OPENAI_MODEL_LIST), default 10 s; empty = no timeout.
    _t="${AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST-${AIOHTTP_CLIENT_TIMEOUT_OPENAI_MODEL_LIST-10}}"
    case "$_t" in
        '') echo 3600 ;;
        *[!0-9]*) echo 10 ;;
        *) echo "$_t" ;;
    esac
}

# fetch OUTFILE URL [BEARER_KEY]: the answer's body, or an empty file when the request failed.
fetch() {
    if [ -n "${3:-}" ]; then
        timeout "$(model_list_timeout)" wget -q -O "$1" --header "Authorization: Bearer $3" "$2" 2>/dev/null || : >"$1"
    else
        timeout "$(model_list_timeout)" wget -q -O "$1" "$2" 2>/dev/null || : >"$1"
    fi
    [ -f "$1" ] || : >"$1"
}

route_models() {
    verified_user || return
    _dir="$RUN_DIR/models.$$"
    rm -rf "$_dir"
    mkdir -p "$_dir"
    _files=""
    # get_all_base_models: the OpenAI-compatible and the Ollama connections are asked at the same time.
    if [ "$(config_get openai.enable)" = true ]; then
        _keys=$(json_strings "$(config_get openai.api_keys)")
        _i=0
        for _url in $(json_strings "$(config_get openai.api_base_urls)"); do
            _key=$(printf '%s\n' "$_keys" | sed -n "$((_i + 1))p")
            fetch "$_dir/openai.$_i" "$_url/models" "$_key" &
            _files="$_files $_dir/openai.$_i"
            _i=$((_i + 1))
        done
    fi
    if [ "$(config_get ollama.enable)" = true ]; then
        _i=0
        for _url in $(json_strings "$(config_get ollama.base_urls)"); do
            fetch "$_dir/ollama.$_i" "$_url/api/tags" &
            _files="$_files $_dir/ollama.$_i"
            _i=$((_i + 1))
        done
    fi
    wait
    # shellcheck disable=SC2086
    _models=$(awk -f "$FAKE_HOME/models.awk" $_files)
    rm -rf "$_dir"
    # utils/models.py get_filtered_models: a model nobody configured access for is visible to admins only.
    if [ "$(user_field 4)" != admin ] && ! env_true BYPASS_MODEL_ACCESS_CONTROL False; then
        _models='[]'
    fi
    json 200 "{\"data\":${_models:-[]}}"
}

# GET /ollama/config and /openai/config (admin): the connections as stored (seeded from the env at the
# first start; later starts keep them unless ENABLE_PERSISTENT_CONFIG=False).
route_ollama_config() {
    admin_user || return
    json 200 "{\"ENABLE_OLLAMA_API\":$(config_get ollama.enable),\"OLLAMA_BASE_URLS\":$(config_get ollama.base_urls),\"OLLAMA_API_CONFIGS\":{}}"
}
route_openai_config() {
    admin_user || return
    json 200 "{\"ENABLE_OPENAI_API\":$(config_get openai.enable),\"OPENAI_API_BASE_URLS\":$(config_get openai.api_base_urls),\"OPENAI_API_KEYS\":$(config_get openai.api_keys),\"OPENAI_API_CONFIGS\":{}}"
}

# ---------------------------------------------------------------- GET /api/v1/audio/config
config_section() { # config_section "FIELD=key FIELD=key ..." -> {"FIELD": value, ...}
    _out=""
    for _pair in $1; do
        _out="${_out:+$_out,}\"${_pair%%=*}\":$(config_get "${_pair#*=}")"
    done
    printf '{%s}' "$_out"
}

route_audio_config() {
    admin_user || return
    json 200 "{\"realtime\":$(config_section "$REALTIME_CONFIG_MAP"),\"tts\":$(config_section "$TTS_CONFIG_MAP"),\"stt\":$(config_section "$STT_CONFIG_MAP")}"
}

# ---------------------------------------------------------------- POST /api/v1/audio/transcriptions
FILE_NOT_SUPPORTED="Oops! It seems like the file format you're trying to upload is not supported. Please upload a file with a supported format and try again."
SLIM_WHISPER='Configure an external speech-to-text engine. Local Whisper is unavailable in slim.'
# What faster-whisper / huggingface_hub raise when WHISPER_MODEL is not in the image and the hub is
# out of reach (HF_HUB_OFFLINE=1; the real image answered this with WHISPER_MODEL=small, see FACTS.md).
WHISPER_MISSING="Cannot find an appropriate cached snapshot folder for the specified revision on the local disk and outgoing traffic has been disabled. To enable repo look-ups and downloads online, set 'HF_HUB_OFFLINE=0' as environment variable."

# Whisper decodes with PyAV: bytes that are no audio container fail like this (status 500).
audio_container() { # audio_container FILE: WAV, WebM/Matroska, Ogg, FLAC, MP3 (ID3 or frame sync), MP4/M4A
    _magic=$(head -c 12 "$1" | xxd -p)
    case "$_magic" in
        52494646????????57415645* | 1a45dfa3* | 4f676753* | 664c6143* | 494433* | fff* | ffe*) return 0 ;;
        ????????66747970*) return 0 ;;
    esac
    return 1
}

# The stand-in recogniser: the transcript of a clip is looked up by the sha256 of its bytes in
# FAKE_TRANSCRIPTS ("sha256=text;sha256=text") and /app/fake/transcripts (one sha256=text per line).
# An unknown clip is heard as silence: "" (what Whisper returns for silence or noise).
fake_transcript() {
    _sum=$(sha256sum "$1" | cut -c1-64)
    {
        printf '%s' "${FAKE_TRANSCRIPTS:-}" | tr ';' '\n'
        echo
        [ -f "$FAKE_HOME/transcripts" ] && cat "$FAKE_HOME/transcripts"
    } | S="$_sum" awk '{ i = index($0, "="); if (i > 0 && substr($0, 1, i - 1) == ENVIRON["S"]) { print substr($0, i + 1); exit } }'
}

# HTTP POST of a multipart body to an OpenAI-compatible STT engine; sets EXT_STATUS (000 when no
# connection) and writes the answer's body to $2. http:// is spoken over nc (so error bodies are seen),
# https:// through busybox wget.
post_external() { # post_external URL OUTFILE BODYFILE BOUNDARY KEY
    EXT_STATUS=000
    : >"$2"
    case "$1" in
        http://*)
            _rest=${1#http://}
            _hostport=${_rest%%/*}
            _path="/${_rest#*/}"
            [ "$_rest" = "$_hostport" ] && _path=/
            _host=${_hostport%:*}
            _port=${_hostport##*:}
            [ "$_port" = "$_hostport" ] && _port=80
            _resp="$2.raw"
            {
                printf 'POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=%s\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' \
                    "$_path" "$_hostport" "$5" "$4" "$(wc -c <"$3")"
                cat "$3"
            } | timeout 300 nc -w 10 "$_host" "$_port" >"$_resp" 2>/dev/null
            if [ -s "$_resp" ]; then
                EXT_STATUS=$(head -n 1 "$_resp" | awk '{ print $2 }')
                awk 'body { print; next } /^\r?$/ { body = 1 }' "$_resp" >"$2"
            fi
            rm -f "$_resp"
            ;;
        *)
            if timeout 300 wget -q -O "$2" --header "Authorization: Bearer $5" \
                --header "Content-Type: multipart/form-data; boundary=$4" --post-file "$3" "$1" 2>/dev/null; then
                EXT_STATUS=200
            fi
            ;;
    esac
}

transcribe_openai() { # transcribe_openai FILE FILENAME -> TEXT_JSON set, or answers the error
    _base=$(json_unquote "$(config_get audio.stt.openai.api_base_url)")
    _key=$(json_unquote "$(config_get audio.stt.openai.api_key)")
    _model=$(json_unquote "$(config_get audio.stt.model)")
    _bnd="fakeowui$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    _req="$RUN_DIR/stt.$$.req"
    _ans="$RUN_DIR/stt.$$.ans"
    {
        printf -- '--%s\r\nContent-Disposition: form-data; name="model"\r\n\r\n%s\r\n' "$_bnd" "$_model"
        printf -- '--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' "$_bnd" "$2"
        cat "$1"
        printf -- '\r\n--%s--\r\n' "$_bnd"
    } >"$_req"
    # One try per language: the given one, then None (the same request here: the fake sends no language).
    post_external "$_base/audio/transcriptions" "$_ans" "$_req" "$_bnd" "$_key"
    [ "$EXT_STATUS" = 200 ] || post_external "$_base/audio/transcriptions" "$_ans" "$_req" "$_bnd" "$_key"
    rm -f "$_req"
    if [ "$EXT_STATUS" = 000 ]; then
        rm -f "$_ans"
        detail 500 'Error transcribing chunk: Open WebUI: Server Connection Error'
        return 1
    fi
    if [ "$EXT_STATUS" != 200 ]; then
        # detail = 'External: ' + the answer's error.message, else the aiohttp error text.
        _msg=$(awk '{ s = s $0 } END { if (match(s, /"error"[ \t]*:[ \t]*\{.*"message"[ \t]*:[ \t]*"([^"\\]|\\.)*"/)) {
                    t = substr(s, RSTART, RLENGTH); sub(/.*"message"[ \t]*:[ \t]*"/, "", t); sub(/"$/, "", t); print t } }' "$_ans")
        rm -f "$_ans"
        if [ -n "$_msg" ]; then
            detail 500 "Error transcribing chunk: External: $_msg"
        else
            detail 500 "Error transcribing chunk: External: $EXT_STATUS, message='$(phrase "$EXT_STATUS")', url='$_base/audio/transcriptions'"
        fi
        return 1
    fi
    eval "$(awk -v keys="text" -f "$FAKE_HOME/json.awk" <"$_ans")"
    rm -f "$_ans"
    if [ -n "${J__error:-}" ] || [ "${J_text_t:-}" != s ]; then
        detail 400 'Transcription failed.'
        return 1
    fi
    TEXT_JSON="\"$J_text\""
}

route_transcriptions() {
    verified_user || return
    _boundary=$(printf '%s' "$CONTENT_TYPE" | sed -n 's/.*[Bb][Oo][Uu][Nn][Dd][Aa][Rr][Yy]=\("\{0,1\}\)\([^";]*\)\1.*/\2/p')
    M_count=0
    case "$(lower "$CONTENT_TYPE")" in
        multipart/form-data*)
            eval "$(xxd -p "$REQ_BODY_FILE" | tr -d '\n' | awk -v boundary="$_boundary" -f "$FAKE_HOME/multipart.awk")"
            if [ -n "${M_error:-}" ]; then detail 400 'There was an error parsing the body'; return; fi ;;
    esac
    _part=0
    _i=1
    while [ "$_i" -le "$M_count" ]; do
        eval "_n=\$M_name_$_i _hf=\$M_has_filename_$_i"
        # shellcheck disable=SC2154
        if [ "$_n" = file ] && [ "$_hf" = 1 ]; then _part=$_i; break; fi
        _i=$((_i + 1))
    done
    if [ "$_part" = 0 ]; then
        json 422 '{"detail":[{"type":"missing","loc":["body","file"],"msg":"Field required","input":null}]}'
        return
    fi
    eval "_fname=\$M_filename_$_part _ctype=\$M_ctype_$_part _hasct=\$M_has_ctype_$_part _start=\$M_start_$_part _len=\$M_len_$_part"
    # The upload's content type against audio.stt.supported_content_types (strict_match_mime_type).
    # shellcheck disable=SC2154
    if ! awk -v header="$_ctype" -v has_header="$_hasct" -v supported="$(json_strings "$(config_get audio.stt.supported_content_types)")" \
        -f "$FAKE_HOME/mime.awk"; then
        detail 400 "$(json_escape "$FILE_NOT_SUPPORTED")"
        return
    fi
    # The file name's extension against audio.stt.allowed_extensions.
    _safe=${_fname##*/}
    case "$_safe" in *.*) _ext=$(lower "${_safe##*.}") ;; *) _ext="" ;; esac
    _allowed=$(json_strings "$(config_get audio.stt.allowed_extensions)")
    if [ -n "$_allowed" ] && ! printf '%s\n' "$_allowed" | grep -qxF -- "$_ext"; then
        detail 400 'Invalid audio file extension'
        return
    fi
    # Saved as CACHE_DIR/audio/transcriptions/<uuid>.<ext>; nothing deletes it afterwards.
    _id=$(new_uuid)
    _dir="$DATA/cache/audio/transcriptions"
    mkdir -p "$_dir"
    _saved="$_dir/$_id.$_ext"
    # shellcheck disable=SC2154
    tail -c "+$((_start + 1))" "$REQ_BODY_FILE" | head -c "$_len" >"$_saved"
    logl INFO 'open_webui.routers.audio:transcription:1470' "file.content_type: $_ctype"
    _engine=$(json_unquote "$(config_get audio.stt.engine)")
    case "$_engine" in
        '')
            if env_true USE_SLIM_DOCKER False; then detail 503 "$SLIM_WHISPER"; return; fi
            _wm=$(json_unquote "$(config_get audio.stt.whisper_model)")
            if [ -z "$_wm" ]; then
                detail 500 "Error transcribing chunk: 'NoneType' object has no attribute 'transcribe'"
                return
            fi
            # The image ships the faster-whisper models named in FAKE_WHISPER_MODELS (default: base).
            if ! printf '%s\n' ${FAKE_WHISPER_MODELS-base} | grep -qxF -- "$_wm"; then
                detail 500 "Error transcribing chunk: $(json_escape "$WHISPER_MISSING")"
                return
            fi
            if ! audio_container "$_saved"; then
                detail 500 "Error transcribing chunk: [Errno 1094995529] Invalid data found when processing input: '$_saved'"
                return
            fi
            TEXT_JSON="\"$(json_escape "$(fake_transcript "$_saved")")\""
            printf '{"text":%s}' "$TEXT_JSON" >"$_dir/$_id.json"
            ;;
        openai)
            transcribe_openai "$_saved" "$_id.$_ext" || return
            printf '{"text":%s}' "$TEXT_JSON" >"$_dir/$_id.json"
            ;;
        deepgram | azure | mistral)
            # Not acted out by the fake (it would need those services); say so instead of guessing.
            detail 501 "fake Open WebUI: the $_engine speech-to-text engine is not acted out"
            return
            ;;
        *)
            # transcription_handler returns None for an unknown engine: the result cannot be read.
            detail 400 'Transcription failed.'
            return
            ;;
    esac
    json 200 "{\"text\":$TEXT_JSON,\"filename\":\"$_id.$_ext\"}"
}

# ---------------------------------------------------------------- /ws/socket.io/ (Engine.IO 4, Socket.IO 5)
# The open packet python-engineio sends: ping values of WEBSOCKET_SERVER_PING_INTERVAL / _TIMEOUT (25, 20 s),
# maxPayload = 16 MiB (socket/main.py SOCKETIO_MAX_HTTP_BUFFER_SIZE); upgrades only from polling when
# websocket support is on (and then polling is not offered at all).
eio_sid() { head -c 15 /dev/urandom | base64 | tr '/+' '_-'; }
eio_open_packet() { # eio_open_packet UPGRADES_JSON
    _pi="${WEBSOCKET_SERVER_PING_INTERVAL:-25}"
    _pt="${WEBSOCKET_SERVER_PING_TIMEOUT:-20}"
    case "$_pi" in *[!0-9]*) _pi=25 ;; esac
    case "$_pt" in *[!0-9]*) _pt=20 ;; esac
    printf '0{"sid":"%s","upgrades":%s,"pingTimeout":%s,"pingInterval":%s,"maxPayload":16777216}' \
        "$(eio_sid)" "$1" "$((_pt * 1000))" "$((_pi * 1000))"
}

# ws_send TEXT: one unmasked text frame to the client.
ws_send() {
    _len=$(printf '%s' "$1" | wc -c)
    if [ "$_len" -lt 126 ]; then
        _hdr=$(printf '81%02x' "$_len")
    else
        _hdr=$(printf '817e%04x' "$_len")
    fi
    { printf '%s' "$_hdr" | xxd -r -p; printf '%s' "$1"; } >&4
}
ws_close() { printf '8802%04x' "${1:-1000}" | xxd -r -p >&4; }

# Reads client frames (masked) and answers like python-socketio: a Socket.IO CONNECT to the default
# namespace ("40", with or without an auth object) gets `40{"sid":...}` at once (always_connect=True; an
# invalid token only leaves the session unauthenticated), a second one `44"Unable to connect"`, a ping "2"
# a pong "3", a close frame a close.
ws_session() {
    _idle="${FAKE_WS_IDLE_SECONDS:-60}"
    _connected=0
    while :; do
        _h=$(timeout "$_idle" dd bs=1 count=2 2>/dev/null | xxd -p)
        [ ${#_h} -eq 4 ] || return 0
        _b0=$((0x${_h%??}))
        _b1=$((0x${_h#??}))
        _op=$((_b0 & 15))
        _n=$((_b1 & 127))
        if [ "$_n" -eq 126 ]; then
            _n=$((0x$(dd bs=1 count=2 2>/dev/null | xxd -p)))
        elif [ "$_n" -eq 127 ]; then
            _n=$((0x$(dd bs=1 count=8 2>/dev/null | xxd -p)))
        fi
        _mask=""
        [ $((_b1 & 128)) -ne 0 ] && _mask=$(dd bs=1 count=4 2>/dev/null | xxd -p)
        _payload=""
        if [ "$_n" -gt 0 ]; then
            _payload=$(dd bs=1 count="$_n" 2>/dev/null | xxd -p | tr -d '\n' | awk -v m="$_mask" '
                function hv(h) { return (index("0123456789abcdef", substr(h, 1, 1)) - 1) * 16 + index("0123456789abcdef", substr(h, 2, 1)) - 1 }
                { for (i = 1; i <= length($0); i += 2) { b = hv(substr($0, i, 2)); j = ((i - 1) / 2) % 4
                    if (m != "") b = xor(b, hv(substr(m, j * 2 + 1, 2))); printf "%02x", b } }' | xxd -r -p)
        fi
        case "$_op" in
            8) ws_close 1000; return 0 ;;
            9) { printf '8a00' | xxd -r -p; } >&4 ;;
            1)
                case "$_payload" in
                    2) ws_send 3 ;;
                    40 | '40{'*)
                        # a second CONNECT to the same namespace: the manager refuses it
                        if [ "$_connected" = 1 ]; then ws_send '44"Unable to connect"'; else ws_send "40{\"sid\":\"$(eio_sid)\"}"; fi
                        _connected=1 ;;
                    1) return 0 ;;
                esac ;;
        esac
    done
}

route_socketio() {
    _q="&${TARGET#*\?}&"
    [ "$TARGET" = "${TARGET#*\?}" ] && _q="&"
    _transport=polling
    case "$_q" in *'&transport='*) _transport=${_q#*&transport=}; _transport=${_transport%%&*} ;; esac
    _eio=""
    case "$_q" in *'&EIO='*) _eio=${_q#*&EIO=}; _eio=${_eio%%&*} ;; esac
    _sid=""
    case "$_q" in *'&sid='*) _sid=${_q#*&sid=}; _sid=${_sid%%&*} ;; esac
    # uvicorn hands a request to the app as a WebSocket only with Upgrade: websocket and a Connection
    # header naming "upgrade"; anything else is plain HTTP.
    _is_ws=0
    if [ "$(lower "$UPGRADE")" = websocket ]; then
        case ",$(lower "$CONNECTION_HDR" | tr -d ' \t')," in *,upgrade,*) _is_ws=1 ;; esac
    fi
    # utils/asgi_middleware.py _reject_invalid_websocket: transport=websocket without the upgrade headers.
    if [ "$_transport" = websocket ] && [ "$_is_ws" = 0 ]; then
        json 400 '{"detail":"Invalid WebSocket upgrade request"}'
        return
    fi
    # engineio refusals: 400 with a JSON string as text/plain over HTTP; a WebSocket the app closes
    # before accepting is answered 403 with an empty body by uvicorn.
    _refuse() {
        if [ "$_is_ws" = 1 ]; then
            printf 'HTTP/1.1 403 Forbidden\r\nDate: %s\r\nConnection: close\r\nContent-Length: 0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' \
                "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')" >&4
            logl INFO 'uvicorn.protocols.websockets.websockets_impl:asgi_send:0' "$(client_addr) - \"WebSocket $TARGET\" 403"
        else
            respond 400 text/plain "\"$1\""
        fi
    }
    # socket/main.py: transports=['websocket'] if ENABLE_WEBSOCKET_SUPPORT else ['polling']
    if env_true ENABLE_WEBSOCKET_SUPPORT True; then _allowed=websocket; else _allowed=polling; fi
    if [ "$_transport" != "$_allowed" ]; then _refuse 'Invalid transport'; return; fi
    if [ -z "$_sid" ] && [ "$_eio" != 4 ]; then
        _refuse 'The client is using an unsupported version of the Socket.IO or Engine.IO protocols'
        return
    fi
    # Sessions are not kept: every sid is unknown to the fake (real: unknown sids get this answer too).
    if [ -n "$_sid" ] || [ "$METHOD" != GET ]; then _refuse "Invalid session ${_sid:-None}"; return; fi
    if [ "$_transport" = polling ]; then
        respond 200 'text/plain; charset=UTF-8' "$(eio_open_packet '[]')"
        return
    fi
    # The app accepted: uvicorn's WebSocket handshake checks come now.
    _fail=""
    if [ -z "$WS_KEY" ]; then
        _fail='missing Sec-WebSocket-Key header'
    elif [ "$(printf '%s' "$WS_KEY" | base64 -d 2>/dev/null | wc -c)" -ne 16 ]; then
        _fail="invalid Sec-WebSocket-Key header: $WS_KEY"
    elif [ -z "$WS_VERSION" ]; then
        _fail='missing Sec-WebSocket-Version header'
    elif [ "$WS_VERSION" != 13 ]; then
        _fail="invalid Sec-WebSocket-Version header: $WS_VERSION"
    fi
    if [ -n "$_fail" ]; then
        _body="Failed to open a WebSocket connection: $_fail.
"
        printf 'HTTP/1.1 400 Bad Request\r\nDate: %s\r\nConnection: close\r\nContent-Length: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s' \
            "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')" "$(printf '%s' "$_body" | wc -c)" "$_body" >&4
        return
    fi
    _accept=$(printf '%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11' "$WS_KEY" | sha1sum | cut -c1-40 | xxd -r -p | base64)
    printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\ndate: %s\r\nserver: uvicorn\r\n\r\n' \
        "$_accept" "$(date -u '+%a, %d %b %Y %H:%M:%S GMT')" >&4
    logl INFO 'uvicorn.protocols.websockets.websockets_impl:asgi_send:0' "$(client_addr) - \"WebSocket $TARGET\" [accepted]"
    ws_send "$(eio_open_packet '[]')"
    ws_session
}
