# Shared by sandbox/start.sh and sandbox/sharehost/start.sh (sourced, not run).

# Prints "process (pid N)" listening on TCP port $1, or nothing if the port is free.
port_user() {
  local port=$1 line
  if command -v ss >/dev/null 2>&1; then
    line=$(ss -Hltnp "( sport = :$port )" 2>/dev/null | head -n1)
    [ -n "$line" ] || return 0
    if [[ $line =~ users:\(\(\"([^\"]+)\",pid=([0-9]+) ]]; then
      echo "${BASH_REMATCH[1]} (pid ${BASH_REMATCH[2]})"
    else
      echo "another process"
    fi
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "another process"
  fi
}

# Fails with a clear message if TCP port $1 is taken; $2 names the variable that moves it.
# PORTS_LABEL prefixes the message (the caller's name).
require_free_port() {
  local port=$1 var=$2 who
  [ "$port" = 0 ] && return 0
  who=$(port_user "$port")
  if [ -n "$who" ]; then
    echo "${PORTS_LABEL:-error}: port $port is already in use by $who; stop it or set $var=<another port>" >&2
    return 1
  fi
}

# True if pid $1 is alive and its command line contains $2.
pid_is() {
  local pid=$1 what=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$what"
}
