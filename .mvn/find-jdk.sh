# Sourced by ./mvnw and bin/kiln: makes JAVA_HOME point at a JDK 25 or newer.
# Keeps JAVA_HOME when it already is one; otherwise searches the usual install
# folders and takes the newest JDK found there; fails with one clear sentence.
kiln_java_feature() {
  # prints the feature release of the JDK at $1 (e.g. 25), or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 0
  if [ -f "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "$v"
}
kiln_find_jdk() {
  if [ -n "${JAVA_HOME-}" ]; then
    v=$(kiln_java_feature "$JAVA_HOME")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then return 0; fi
  fi
  best=""; best_v=0
  case $- in *f*) kiln_noglob=1; set +f ;; *) kiln_noglob=0 ;; esac
  for d in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* /opt/*jdk* \
           "${HOME-}"/.sdkman/candidates/java/* "${HOME-}"/.jdks/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$d" ] || continue
    v=$(kiln_java_feature "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ] && [ "$v" -gt "$best_v" ]; then best="$d"; best_v="$v"; fi
  done
  [ "$kiln_noglob" = 1 ] && set -f
  if [ -z "$best" ] && command -v java >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    v=$(kiln_java_feature "$d")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then best="$d"; fi
  fi
  if [ -z "$best" ]; then
    echo "Kiln needs a JDK 25 or newer and found none (JAVA_HOME=${JAVA_HOME-unset}; searched /usr/lib/jvm, /usr/java, /opt, ~/.sdkman, ~/.jdks): install one, e.g. Temurin 25, or set JAVA_HOME to it." >&2
    exit 1
  fi
  JAVA_HOME="$best"
  export JAVA_HOME
}
kiln_find_jdk
