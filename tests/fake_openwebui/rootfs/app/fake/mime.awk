# open_webui.utils.misc.strict_match_mime_type (python-mimeparse 2.0.0 best_match, then the supported
# entry's parameters must equal the header's), in busybox awk.
#
#   awk -v header="$CONTENT_TYPE" -v has_header=1 -v supported="$(one entry per line)" -f mime.awk
#
# Exit status 0 when the upload's content type is accepted, 1 when it is refused.

function trim(v) {
    gsub(/^[ \t\r\n]+|[ \t\r\n]+$/, "", v)
    return v
}

# parse_mime_type: sets P_type, P_sub, P_params (k=v joined by \001); returns 0 when it would raise.
function parse(str,    parts, np, i, kv, eq, key, val, full, ts) {
    np = split(str, parts, ";")
    full = trim(parts[1])
    if (full == "*")
        full = "*/*"
    if (split(full, ts, "/") != 2)
        return 0
    P_type = trim(ts[1])
    P_sub = trim(ts[2])
    delete P_param
    P_q = ""
    for (i = 2; i <= np; i++) {
        kv = trim(parts[i])
        eq = index(kv, "=")
        if (eq == 0)
            continue
        key = tolower(trim(substr(kv, 1, eq - 1)))
        val = trim(substr(kv, eq + 1))
        if (length(val) >= 2 && substr(val, 1, 1) == "\"" && substr(val, length(val)) == "\"")
            val = substr(val, 2, length(val) - 2)
        P_param[key] = val
    }
    return 1
}

function qvalue(    q) {
    q = ("q" in P_param) ? P_param["q"] : "1"
    if (q !~ /^[0-9]*\.?[0-9]+$/ || q + 0 > 1)
        q = "1"
    return q + 0
}

BEGIN {
    if (!has_header)
        exit 1
    # supported = [s for s in supported if s.strip() and '/' in s] or the default
    ns = 0
    nl = split(supported, lines, "\n")
    for (i = 1; i <= nl; i++)
        if (trim(lines[i]) != "" && index(lines[i], "/") > 0)
            sup[++ns] = lines[i]
    if (ns == 0) {
        sup[1] = "audio/*"
        sup[2] = "video/webm"
        ns = 2
    }
    # the header's media ranges
    nr = 0
    nh = split(header, ranges, ",")
    for (i = 1; i <= nh; i++) {
        if (trim(ranges[i]) == "")
            continue
        if (!parse(ranges[i]))
            exit 1
        nr++
        r_type[nr] = P_type
        r_sub[nr] = P_sub
        r_q[nr] = qvalue()
        r_params[nr] = ""
        for (k in P_param)
            if (k != "q")
                r_pk[nr, k] = P_param[k]
    }
    best_q = 0
    best_fit = -1
    best = 0
    for (j = 1; j <= ns; j++) {
        if (!parse(sup[j]))
            exit 1
        fit_best = -1
        fit_q = 0
        for (i = 1; i <= nr; i++) {
            tmatch = (r_type[i] == P_type || r_type[i] == "*" || P_type == "*")
            smatch = (r_sub[i] == P_sub || r_sub[i] == "*" || P_sub == "*")
            if (!(tmatch && smatch))
                continue
            fit = (r_type[i] == P_type) ? 100 : 0
            fit += (r_sub[i] == P_sub) ? 10 : 0
            for (k in P_param)
                if (k != "q" && ((i, k) in r_pk) && r_pk[i, k] == P_param[k])
                    fit++
            fit += qvalue()
            if (fit > fit_best) {
                fit_best = fit
                fit_q = r_q[i]
            }
        }
        # sorted by (q, fitness, position): the last wins ties
        if (fit_q > best_q || (fit_q == best_q && fit_best >= best_fit)) {
            best_q = fit_q
            best_fit = fit_best
            best = j
        }
    }
    if (best == 0 || best_q == 0)
        exit 1
    # the chosen entry's parameters must all be in the header, equal
    parse(sup[best])
    for (k in P_param)
        want[k] = P_param[k]
    if (!parse(header))
        exit 1
    for (k in want)
        if (!(k in P_param) || P_param[k] != want[k])
            exit 1
    exit 0
}
