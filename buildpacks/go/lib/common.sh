# shellcheck shell=bash
# Sourced by bin/compile and bin/test: how a GOPATH app (godep's Godeps/Godeps.json or a
# .godir) is laid out for the go tool.

# Prints the import path of the app in the current directory (Godeps/Godeps.json's
# ImportPath, else .godir's content); else prints why it has none and returns 1.
go_import_path() {
  local import_path
  if [ -f Godeps/Godeps.json ]; then
    import_path=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open("Godeps/Godeps.json")).get("ImportPath",""))') ||
      { echo "Godeps/Godeps.json is not valid JSON"; return 1; }
  else
    import_path=$(tr -d '[:space:]' <.godir)
  fi
  case "$import_path" in
    '' | /* | *..* | *[!A-Za-z0-9._/~-]*)
      echo "'$import_path' is not a Go import path (Godeps/Godeps.json ImportPath or .godir)"
      return 1 ;;
  esac
  echo "$import_path"
}

# go_gopath DIR IMPORT_PATH APP_DIR: makes DIR a GOPATH whose src/IMPORT_PATH is the app (a
# symlink to APP_DIR) and prints the GOPATH to use: DIR, plus Godeps/_workspace when the
# app has one.
go_gopath() {
  local dir=$1 import_path=$2 app=$3
  mkdir -p "$dir/src/$(dirname "$import_path")"
  ln -s "$app" "$dir/src/$import_path"
  if [ -d "$app/Godeps/_workspace" ]; then
    echo "$dir:$app/Godeps/_workspace"
  else
    echo "$dir"
  fi
}
