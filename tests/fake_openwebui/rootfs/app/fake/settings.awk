# A user's settings, as Open WebUI 0.12.4 keeps and answers them (busybox awk).
#
#   awk -v mode=show   -v current=FILE -f settings.awk </dev/null   GET  /api/v1/users/user/settings
#   awk -v mode=update -v current=FILE -f settings.awk <BODY        POST /api/v1/users/user/settings/update
#
# FILE holds the stored settings (one JSON object; missing or empty = the column's NULL).
# show prints `null` for NULL, else the settings as UserSettings serializes them: `ui` first (default {}),
# then the other keys in their stored order.
# update follows routers/users.py update_user_settings_by_session_user (body = UserSettings,
# model_dump(exclude_unset=True)) and models/users.py update_user_settings_by_id: top-level keys other than
# `ui` replace; `ui` is patched key by key (a null value removes the key; `"ui": null` leaves ui alone).
# It prints two lines: the new stored object, then the answer (as show would print it).
# An invalid body prints `ERROR <FastAPI 422 detail item>` only.
# Values are re-emitted compactly (no whitespace outside strings), as Python's JSON encoder would not keep
# the request's own spacing either.

function fail(item) { print "ERROR " item; failed = 1; exit 0 }
function ws() { while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0) pos++ }

function str(    start, c) { # at the opening quote; returns the literal with its quotes
    start = pos; pos++
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\\") { pos += 2; continue }
        if (c == "\"") { pos++; return substr(s, start, pos - start) }
        if (c < " ") bad("Invalid control character at")
        pos++
    }
    bad("Unterminated string starting at")
}

function bad(msg) {
    fail("{\"type\":\"json_invalid\",\"loc\":[\"body\"," pos - 1 "],\"msg\":\"JSON decode error\",\"input\":{},\"ctx\":{\"error\":\"" msg "\"}}")
}

# value(): the next JSON value, compact; vtype is s n b z o a
function value(    c, start, out, first) {
    ws()
    c = substr(s, pos, 1)
    if (c == "\"") { vtype = "s"; return str() }
    if (c == "{" || c == "[") {
        vtype = (c == "{") ? "o" : "a"
        out = c; pos++; ws(); first = 1
        if (substr(s, pos, 1) == (c == "{" ? "}" : "]")) { pos++; vtype = (c == "{") ? "o" : "a"; return out (c == "{" ? "}" : "]") }
        while (1) {
            ws()
            if (c == "{") {
                if (substr(s, pos, 1) != "\"") bad("Expecting property name enclosed in double quotes")
                out = out (first ? "" : ",") str(); ws()
                if (substr(s, pos, 1) != ":") bad("Expecting ':' delimiter")
                pos++
                out = out ":" value()
            } else
                out = out (first ? "" : ",") value()
            first = 0; ws()
            if (substr(s, pos, 1) == ",") { pos++; continue }
            if (substr(s, pos, 1) == (c == "{" ? "}" : "]")) { pos++; break }
            bad("Expecting ',' delimiter")
        }
        vtype = (c == "{") ? "o" : "a"
        return out (c == "{" ? "}" : "]")
    }
    start = pos
    while (pos <= n && index(",}] \t\r\n", substr(s, pos, 1)) == 0) pos++
    out = substr(s, start, pos - start)
    if (out == "true" || out == "false") vtype = "b"
    else if (out == "null") vtype = "z"
    else if (out ~ /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/) vtype = "n"
    else bad("Expecting value")
    return out
}

# members(text, name): the members of a compact JSON object into K[name, i], V[name, i], T[name, i], N[name]
# (a repeated key keeps its first place and its last value, as Python's json does)
function members(text, name,    k, v, i, found) {
    s = text; n = length(s); pos = 1; N[name] = 0
    ws()
    if (substr(s, pos, 1) != "{") return
    pos++; ws()
    if (substr(s, pos, 1) == "}") return
    while (1) {
        ws(); k = str(); ws(); pos++
        v = value()
        found = 0
        for (i = 1; i <= N[name]; i++) if (K[name, i] == k) { V[name, i] = v; T[name, i] = vtype; found = 1 }
        if (!found) { N[name]++; K[name, N[name]] = k; V[name, N[name]] = v; T[name, N[name]] = vtype }
        ws()
        if (substr(s, pos, 1) == ",") { pos++; continue }
        break
    }
}

function put(name, k, v, t,    i) {
    for (i = 1; i <= N[name]; i++) if (K[name, i] == k) { V[name, i] = v; T[name, i] = t; return }
    N[name]++; K[name, N[name]] = k; V[name, N[name]] = v; T[name, N[name]] = t
}

function drop(name, k,    i, j) {
    for (i = 1; i <= N[name]; i++) if (K[name, i] == k) {
        for (j = i; j < N[name]; j++) { K[name, j] = K[name, j + 1]; V[name, j] = V[name, j + 1]; T[name, j] = T[name, j + 1] }
        N[name]--
        return
    }
}

function get(name, k,    i) {
    for (i = 1; i <= N[name]; i++) if (K[name, i] == k) { gtype = T[name, i]; return V[name, i] }
    gtype = ""
    return ""
}

function object(name, skip,    i, out) {
    out = ""
    for (i = 1; i <= N[name]; i++) if (K[name, i] != skip) out = out (out == "" ? "" : ",") K[name, i] ":" V[name, i]
    return "{" out "}"
}

# UserSettings as the response model serializes it: `ui` first (default {}), the extra keys after.
function answer(name,    ui) {
    ui = get(name, "\"ui\"")
    if (gtype == "" ) ui = "{}"
    inner = object(name, "\"ui\"")
    return "{\"ui\":" ui (inner == "{}" ? "" : "," substr(inner, 2, length(inner) - 2)) "}"
}

BEGIN {
    stored = ""
    if (current != "") { while ((getline line < current) > 0) stored = stored line; close(current) }
}

mode == "update" { body = (NR == 1) ? $0 : body "\n" $0 }

END {
    if (failed) exit 0
    if (stored != "") { s = stored; n = length(s); pos = 1; stored = value() }
    if (mode == "show") { if (stored == "" || stored == "null") print "null"; else { members(stored, "cur"); print answer("cur") }; exit 0 }

    s = body; n = length(s); pos = 1
    ws()
    # FastAPI: no body at all for a required body model
    if (n == 0) fail("{\"type\":\"missing\",\"loc\":[\"body\"],\"msg\":\"Field required\",\"input\":null}")
    if (pos > n) bad("Expecting value")
    parsed = value()
    ws()
    if (pos <= n) bad("Extra data")
    if (vtype != "o")
        fail("{\"type\":\"model_attributes_type\",\"loc\":[\"body\"],\"msg\":\"Input should be a valid dictionary or object to extract fields from\",\"input\":" parsed "}")
    members(parsed, "new")
    newui = get("new", "\"ui\"")
    if (gtype != "" && gtype != "o" && gtype != "z")
        fail("{\"type\":\"dict_type\",\"loc\":[\"body\",\"ui\"],\"msg\":\"Input should be a valid dictionary\",\"input\":" newui "}")
    newui_type = gtype

    members(stored == "null" ? "" : stored, "cur")
    for (i = 1; i <= N["new"]; i++) if (K["new", i] != "\"ui\"") put("cur", K["new", i], V["new", i], T["new", i])
    if (newui_type == "o") {
        curui = get("cur", "\"ui\"")
        members(gtype == "o" ? curui : "{}", "ui")
        members(newui, "patch")
        for (i = 1; i <= N["patch"]; i++) {
            if (T["patch", i] == "z") drop("ui", K["patch", i])
            else put("ui", K["patch", i], V["patch", i], T["patch", i])
        }
        put("cur", "\"ui\"", object("ui"), "o")
    }
    print object("cur")
    print answer("cur")
}
