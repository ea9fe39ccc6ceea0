// Number formatting shared by the gauges and the model switcher.
.pragma library

function gib(bytes) {
    if (!(bytes > 0)) return "0 GiB"
    if (bytes < 1024 * 1024 * 1024) return (bytes / (1024 * 1024)).toFixed(0) + " MiB"
    return (bytes / (1024 * 1024 * 1024)).toFixed(2) + " GiB"
}

function count(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + " B"
    if (n >= 1e6) return (n / 1e6).toFixed(1) + " M"
    if (n >= 1e3) return (n / 1e3).toFixed(1) + " K"
    return String(n)
}

function rate(x) {
    return x > 0 ? x.toFixed(1) : "–"
}
