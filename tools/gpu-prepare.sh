#!/usr/bin/env bash
# Builds gpu-carry/ (ignored by git), everything tools/gpu-check.sh needs on a GPU machine that has
# no Java and no network: a jlinked JDK 25 (java.base, jdk.incubator.vector, java.logging,
# java.management, jdk.unsupported, java.xml; --strip-debug --compress=zip-9, packed as jdk.tar.xz), the Kiln jars with
# the fatbins (so nvcc must be found here: see kernels/src/main/cuda/build-fatbin.sh), the test
# classes, the JUnit jars and junit-platform-console-standalone. Must stay under the device tool's
# 64 MiB (working tree included); the size is printed.
#
#   tools/gpu-prepare.sh            # then: device run, carry ["gpu-carry"], command "bash tools/gpu-check.sh"
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. .mvn/find-jdk.sh
out=gpu-carry
console_version=1.14.1
m2=${MAVEN_REPO:-$HOME/.m2/repository}

echo "gpu-prepare: building the jars and test classes (tests not run) ..."
./mvnw -B -q -o -DskipTests package -pl kernels,engine,nn,bench -am
if ! ls kernels/target/classes/dev/kiln/kernels/cuda/*.fatbin >/dev/null 2>&1; then
  echo "gpu-prepare: no fatbins in kernels/target/classes (nvcc was not found): the GPU checks would only skip" >&2
  exit 1
fi

console="$m2/org/junit/platform/junit-platform-console-standalone/$console_version/junit-platform-console-standalone-$console_version.jar"
if [ ! -f "$console" ]; then
  echo "gpu-prepare: fetching junit-platform-console-standalone $console_version ..."
  ./mvnw -B -q -ntp dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:$console_version
fi

rm -rf "$out"
mkdir -p "$out/lib" "$out/test"
# the runtime image is ~49 MiB (libjvm.so alone 29), so it travels as jdk.tar.xz (~24 MiB)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,java.logging,java.management,jdk.unsupported,java.xml \
  --strip-debug --compress=zip-9 --no-header-files --no-man-pages --output "$tmp/jdk"
tar -C "$tmp" -cf - jdk | xz -T0 -6 > "$out/jdk.tar.xz"
for m in kernels engine nn bench; do
  cp "$m"/target/kiln-"$m"-*.jar "$out/lib/"
  "$JAVA_HOME/bin/jar" --create --file "$out/test/kiln-$m-tests.jar" -C "$m/target/test-classes" .
done
# the test classes' own dependencies (JUnit's API and engine are inside the console jar)
cp "$console" "$out/junit-console.jar"
printf '%s\n' "kiln $(git rev-parse --short HEAD 2>/dev/null || echo unknown), built $(date -u +%FT%TZ)" > "$out/BUILD"
size=$(du -sb "$out" | cut -f1)
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
echo "gpu-prepare: $out is $((size / 1024 / 1024)) MiB (+ working tree $((tree / 1024 / 1024)) MiB; the device tool takes 64 MiB in all)"
if [ $((size + tree)) -ge $((64 * 1024 * 1024)) ]; then
  echo "gpu-prepare: too large for the device tool" >&2
  exit 1
fi
