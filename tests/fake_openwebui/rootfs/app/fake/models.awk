# The model list of GET /api/models, built from the raw answers of the model connections (busybox awk).
#
#   awk -f models.awk openai.0 openai.1 ... ollama.0 ollama.1 ...
#
# Each file holds one connection's answer (`GET <url>/models` for an OpenAI-compatible connection,
# `GET <url>/api/tags` for Ollama); an empty file is a request that failed. The mapping follows
# open_webui/routers/openai.py get_all_models (+ get_all_models_responses) and routers/ollama.py
# get_all_models (+ merge_models_lists), then utils/models.py fetch_ollama_models / get_all_models and
# main.py get_models (tags, actions, filters; duplicate ids collapse to the last one). Prints the JSON
# array of models. JSON values are carried as raw text, so strings keep their escapes.

function skip_ws() {
    while (pos <= n && index(" \t\r\n", substr(s, pos, 1)) > 0)
        pos++
}

function read_string(    start, c) {
    pos++
    start = pos
    while (pos <= n) {
        c = substr(s, pos, 1)
        if (c == "\\") {
            pos += 2
            continue
        }
        if (c == "\"") {
            pos++
            return substr(s, start, pos - 1 - start)
        }
        pos++
    }
    bad = 1
    return ""
}

function read_value(    c, start, depth, v) {
    skip_ws()
    c = substr(s, pos, 1)
    if (c == "\"") {
        vtype = "s"
        return "\"" read_string() "\""
    }
    if (c == "{" || c == "[") {
        vtype = (c == "{") ? "o" : "a"
        start = pos
        depth = 0
        while (pos <= n) {
            c = substr(s, pos, 1)
            if (c == "\"") {
                read_string()
                continue
            }
            if (c == "{" || c == "[")
                depth++
            else if (c == "}" || c == "]") {
                depth--
                if (depth == 0) {
                    pos++
                    return substr(s, start, pos - start)
                }
            }
            pos++
        }
        bad = 1
        return ""
    }
    start = pos
    while (pos <= n && index(",}] \t\r\n", substr(s, pos, 1)) == 0)
        pos++
    v = substr(s, start, pos - start)
    vtype = (v == "null") ? "z" : "p"
    if (v == "")
        bad = 1
    return v
}

# Members of a JSON object into mk[1..mn] (keys, still escaped), mv[] (raw values), mt[] (types).
function parse_members(text,    k, v, c) {
    s = text
    n = length(s)
    pos = 1
    mn = 0
    bad = 0
    skip_ws()
    if (substr(s, pos, 1) != "{")
        return 0
    pos++
    skip_ws()
    if (substr(s, pos, 1) == "}")
        return 1
    while (!bad) {
        skip_ws()
        if (substr(s, pos, 1) != "\"")
            return 0
        k = read_string()
        skip_ws()
        if (substr(s, pos, 1) != ":")
            return 0
        pos++
        v = read_value()
        if (bad)
            return 0
        mn++
        mk[mn] = k
        mv[mn] = v
        mt[mn] = vtype
        skip_ws()
        c = substr(s, pos, 1)
        pos++
        if (c == "}")
            return 1
        if (c != ",")
            return 0
    }
    return 0
}

# Elements of a JSON array into el[1..en], et[].
function parse_elements(text,    v, c) {
    s = text
    n = length(s)
    pos = 1
    en = 0
    bad = 0
    skip_ws()
    if (substr(s, pos, 1) != "[")
        return 0
    pos++
    skip_ws()
    if (substr(s, pos, 1) == "]")
        return 1
    while (!bad) {
        v = read_value()
        if (bad)
            return 0
        en++
        el[en] = v
        et[en] = vtype
        skip_ws()
        c = substr(s, pos, 1)
        pos++
        if (c == "]")
            return 1
        if (c != ",")
            return 0
    }
    return 0
}

function member(name,    i) {
    for (i = 1; i <= mn; i++)
        if (mk[i] == name) {
            mtype = mt[i]
            return mv[i]
        }
    mtype = ""
    return ""
}

# dict[key] = value on the current member list, keeping the position of an existing key.
# A raw JSON string without its quotes (escapes kept).
function unq(raw) {
    return substr(raw, 2, length(raw) - 2)
}

function put(name, value,    i) {
    for (i = 1; i <= mn; i++)
        if (mk[i] == name) {
            mv[i] = value
            return
        }
    mn++
    mk[mn] = name
    mv[mn] = value
}

function drop(name,    i, j) {
    for (i = 1; i <= mn; i++)
        if (mk[i] == name) {
            for (j = i; j < mn; j++) {
                mk[j] = mk[j + 1]
                mv[j] = mv[j + 1]
                mt[j] = mt[j + 1]
            }
            mn--
            return
        }
}

function object(    i, out) {
    out = ""
    for (i = 1; i <= mn; i++)
        out = out (i > 1 ? "," : "") "\"" mk[i] "\":" mv[i]
    return "{" out "}"
}

function save_members(prefix,    i) {
    saved[prefix, "n"] = mn
    for (i = 1; i <= mn; i++) {
        saved[prefix, "k", i] = mk[i]
        saved[prefix, "v", i] = mv[i]
    }
}

function load_members(prefix,    i) {
    mn = saved[prefix, "n"]
    for (i = 1; i <= mn; i++) {
        mk[i] = saved[prefix, "k", i]
        mv[i] = saved[prefix, "v", i]
    }
}

# main.py: models = list({model['id']: model for model in models}.values())
function add_model(id, json) {
    if (!(id in final)) {
        count++
        order[count] = id
    }
    final[id] = json
}

function openai_connection(idx, text,    list, j, id, name, model_json, nel, elems) {
    if (parse_members(text)) {
        list = member("data")
        if (mtype != "a")
            return
    } else
        list = text
    if (!parse_elements(list))
        return
    nel = en
    for (j = 1; j <= nel; j++)
        elems[j] = el[j]
    for (j = 1; j <= nel; j++) {
        if (!parse_members(elems[j]))
            continue
        # get_all_models_responses: drop a null name, tag the connection type
        member("name")
        if (mtype == "z")
            drop("name")
        put("connection_type", "\"external\"")
        id = unq(member("id"))
        if (mtype != "s" || id == "") {
            id = unq(member("name"))
            if (mtype != "s" || id == "")
                continue
        }
        if (id in openai_seen)
            continue
        openai_seen[id] = 1
        model_json = object()
        name = member("name")
        if (mtype == "")
            name = "\"" id "\""
        put("name", name)
        put("owned_by", "\"openai\"")
        put("openai", model_json)
        put("connection_type", "\"external\"")
        put("provider", "\"\"")
        put("urlIdx", idx)
        put("tags", "[]")
        put("actions", "[]")
        put("filters", "[]")
        add_model(id, object())
    }
}

function ollama_connection(idx, text,    list, j, id, nel, elems) {
    if (!parse_members(text))
        return
    list = member("models")
    if (mtype != "a" || !parse_elements(list))
        return
    nel = en
    for (j = 1; j <= nel; j++)
        elems[j] = el[j]
    for (j = 1; j <= nel; j++) {
        if (!parse_members(elems[j]))
            continue
        put("connection_type", "\"local\"")
        id = unq(member("model"))
        if (mtype != "s")
            continue
        if (id in ollama_urls) {
            ollama_urls[id] = ollama_urls[id] "," idx
            continue
        }
        ollama_count++
        ollama_order[ollama_count] = id
        ollama_urls[id] = idx
        save_members("ollama" SUBSEP id)
    }
}

function ollama_models(    i, id, name, raw, expires, tags) {
    for (i = 1; i <= ollama_count; i++) {
        id = ollama_order[i]
        load_members("ollama" SUBSEP id)
        put("urls", "[" ollama_urls[id] "]")
        name = member("name")
        if (mtype == "")
            name = "\"" id "\""
        member("expires_at")
        expires = (mtype != "") ? "true" : "false"
        tags = member("tags")
        if (mtype == "")
            tags = "[]"
        raw = object()
        mn = 0
        put("id", "\"" id "\"")
        put("name", name)
        put("object", "\"model\"")
        put("created", "0")
        put("owned_by", "\"ollama\"")
        put("ollama", raw)
        put("loaded", expires)
        put("connection_type", "\"local\"")
        put("tags", "[]")
        put("actions", "[]")
        put("filters", "[]")
        add_model(id, object())
    }
}

BEGIN {
    for (a = 1; a < ARGC; a++) {
        file = ARGV[a]
        text = ""
        while ((getline line < file) > 0)
            text = text line "\n"
        close(file)
        base = file
        sub(/.*\//, "", base)
        split(base, parts, ".")
        if (parts[1] == "openai")
            openai_connection(parts[2], text)
        else if (parts[1] == "ollama")
            ollama_connection(parts[2], text)
    }
    ollama_models()
    out = ""
    for (i = 1; i <= count; i++)
        out = out (i > 1 ? "," : "") final[order[i]]
    print "[" out "]"
    exit 0
}
