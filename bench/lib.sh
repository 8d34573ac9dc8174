# Shared by bench/load/run.sh and bench/recovery/run.sh (sourced, not run): installing what is missing, the scratch
# folder and its cleanup, the snapshot of src/ a gateway is published from, and running the harness so that an
# interrupted run still stops it. Callers set KEEP (1 keeps the scratch folder) before calling bench_scratch.

# Debian's packages, installed once (apt-get update first, only when something is missing). Extra names given as
# "cmd:NAME" are needed only when the command NAME is absent (node and npm may come from another repository).
bench_install_missing() {
  local need=() item
  for item in "$@"; do
    if [[ "$item" == cmd:* ]]; then
      command -v "${item#cmd:}" >/dev/null || need+=("${item#cmd:}")
    else
      dpkg-query -W -f='${Status}' "$item" 2>/dev/null | grep -q "install ok installed" || need+=("$item")
    fi
  done
  if [[ ${#need[@]} -gt 0 ]]; then
    echo "installing: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# WORK: a fresh scratch folder, removed on exit (kept with KEEP=1), with the harness stopped first if it still runs.
bench_scratch() {
  WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
  HARNESS_PID=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  if [[ -n "$HARNESS_PID" ]] && kill -0 "$HARNESS_PID" 2>/dev/null; then
    kill -TERM "$HARNESS_PID" 2>/dev/null || true
    wait "$HARNESS_PID" 2>/dev/null || true
  fi
  if [[ "$KEEP" == 1 ]]; then echo "scratch folder kept: $WORK"; else rm -rf "$WORK"; fi
}

# A snapshot of the working tree's src/ and build settings into $1 (bin/obj excluded, so a build in the working tree
# cannot interfere with the publish).
bench_snapshot_src() {
  mkdir -p "$1"
  tar -C "$REPO" --exclude=bin --exclude=obj --exclude=BenchmarkDotNet.Artifacts --exclude=node_modules \
    -c src Directory.Build.props Directory.Packages.props global.json $(cd "$REPO" && ls .editorconfig nuget.config NuGet.config 2>/dev/null) \
    | tar -x -C "$1"
}

# dotnet publish of the snapshot's gateway into $1 (further arguments go to dotnet publish); the log's tail on failure.
bench_publish_gateway() {
  local out="$1"
  shift
  dotnet publish "$WORK/src/src/TagGateway/TagGateway.csproj" -c Release "$@" -o "$out" -nologo -v q >"$WORK/publish.log" 2>&1 \
    || { tail -30 "$WORK/publish.log"; exit 1; }
}

# Runs the harness command in the background (so the EXIT trap can stop it) and sets STATUS to its exit status.
bench_run_harness() {
  "$@" &
  HARNESS_PID=$!
  STATUS=0
  wait "$HARNESS_PID" || STATUS=$?
  HARNESS_PID=""
}
