# A multipart/form-data reader for the fake Open WebUI (busybox awk), binary-safe through hex.
#
#   xxd -p BODY | tr -d '\n' | awk -v boundary="$BOUNDARY" -f multipart.awk
#
# Prints shell assignments for eval, per part i (1..M_count):
#   M_name_i  M_filename_i  M_has_filename_i (1/0)  M_ctype_i  M_has_ctype_i (1/0)
#   M_start_i (byte offset of the content in BODY)  M_len_i (content length in bytes)
# On a body it cannot read: M_error='...'. Like starlette's parser, a part's headers are
# Content-Disposition (name, filename) and Content-Type.

function shq(v) {
    gsub(/'/, "'\\''", v)
    return "'" v "'"
}

function tohex(str,    i, out) {
    out = ""
    for (i = 1; i <= length(str); i++)
        out = out sprintf("%02x", ord[substr(str, i, 1)])
    return out
}

function fromhex(h,    i, out) {
    out = ""
    for (i = 1; i < length(h); i += 2)
        out = out sprintf("%c", (index("0123456789abcdef", substr(h, i, 1)) - 1) * 16 + index("0123456789abcdef", substr(h, i + 1, 1)) - 1)
    return out
}

# index() of needle in hay at or after `from`, on a byte boundary (odd hex offsets are not matches).
function find(hay, needle, from,    rest, i) {
    while (1) {
        rest = substr(hay, from)
        i = index(rest, needle)
        if (i == 0)
            return 0
        if ((from + i - 1) % 2 == 1)
            return from + i - 1
        from = from + i
    }
}

function param(header, key,    re, v) {
    # key="value" or key=value, case-insensitive key
    re = "(^|;)[ \t]*" key "[ \t]*=[ \t]*"
    if (!match(tolower(header), re))
        return "\001"
    v = substr(header, RSTART + RLENGTH)
    if (substr(v, 1, 1) == "\"") {
        v = substr(v, 2)
        match(v, /^([^"\\]|\\.)*/)
        v = substr(v, 1, RLENGTH)
        gsub(/\\"/, "\"", v)
        return v
    }
    match(v, /^[^;]*/)
    v = substr(v, 1, RLENGTH)
    sub(/[ \t]+$/, "", v)
    return v
}

BEGIN {
    for (i = 0; i < 256; i++)
        ord[sprintf("%c", i)] = i
}

{ hex = hex $0 }

END {
    if (boundary == "") {
        print "M_error='no boundary'"
        exit 0
    }
    delim = tohex("--" boundary)
    next_delim = "0d0a" delim
    p = find(hex, delim, 1)
    if (p == 0) {
        print "M_error='no boundary in body'"
        exit 0
    }
    count = 0
    while (1) {
        p += length(delim)
        if (substr(hex, p, 4) == "2d2d")
            break
        # transport padding, then CRLF
        while (substr(hex, p, 2) == "20" || substr(hex, p, 2) == "09")
            p += 2
        if (substr(hex, p, 4) != "0d0a") {
            print "M_error='malformed part'"
            exit 0
        }
        p += 4
        hend = find(hex, "0d0a0d0a", p)
        if (substr(hex, p, 4) == "0d0a")
            hend = p - 4
        if (hend == 0) {
            print "M_error='part headers never end'"
            exit 0
        }
        headers = (hend > p) ? fromhex(substr(hex, p, hend - p)) : ""
        cstart = hend + 8
        q = find(hex, next_delim, cstart)
        if (q == 0) {
            print "M_error='part never ends'"
            exit 0
        }
        count++
        name = ""
        filename = ""
        has_filename = 0
        ctype = ""
        has_ctype = 0
        nh = split(headers, lines, "\r\n")
        for (j = 1; j <= nh; j++) {
            line = lines[j]
            c = index(line, ":")
            if (c == 0)
                continue
            key = tolower(substr(line, 1, c - 1))
            value = substr(line, c + 1)
            sub(/^[ \t]+/, "", value)
            sub(/[ \t]+$/, "", value)
            if (key == "content-disposition") {
                v = param(value, "name")
                if (v != "\001")
                    name = v
                v = param(value, "filename")
                if (v != "\001") {
                    filename = v
                    has_filename = 1
                }
            } else if (key == "content-type") {
                ctype = value
                has_ctype = 1
            }
        }
        printf "M_name_%d=%s\nM_filename_%d=%s\nM_has_filename_%d=%d\n", count, shq(name), count, shq(filename), count, has_filename
        printf "M_ctype_%d=%s\nM_has_ctype_%d=%d\n", count, shq(ctype), count, has_ctype
        printf "M_start_%d=%d\nM_len_%d=%d\n", count, (cstart - 1) / 2, count, (q - cstart) / 2
        p = q + 4
    }
    printf "M_count=%d\n", count
}
