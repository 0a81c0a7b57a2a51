# What the buildpack needs of package.json ($app, slurped) and of npm's own package.json
# ($npm, slurped; empty when not found), one line each:
#   npm's version ("" when unknown)
#   "yes" when the app has install scripts of its own (npm runs them at install), else "no"
#   the names of the app's scripts, space-separated (names with spaces are left out)
#   the default web command as a JSON string (also a YAML double-quoted scalar), or ""
# An app whose package.json is not one JSON object is an error.
#
# web: the start script, run as the command it names, as Paketo's npm-start does: npm itself
# is not started, which is a quarter of a second of every start and a process between the
# dyno and the app's signals. `npm start` when a prestart or poststart script goes with it
# (npm runs those), when the script reads what npm sets ($npm_package_*, $npm_config_*,
# $npm_lifecycle_*, $INIT_CWD), or when it is not one line of text; "" when there is no start
# script.
if ($app | length) != 1 or ($app[0] | type) != "object" then
  error("it must hold one object")
else . end
| ($app[0].scripts | if type == "object" then . else {} end) as $s
| [$s | to_entries[] | select(.value | type == "string") | .key] as $names
| ($npm | if length == 1 and (.[0] | type) == "object" and .[0].name == "npm"
          then .[0].version // "" | tostring else "" end),
  (if any($names[]; IN("preinstall", "install", "postinstall", "prepublish", "preprepare",
                       "prepare", "postprepare")) then "yes" else "no" end),
  ($names | map(select(test("^[^\\s]+$"))) | join(" ")),
  (if ($s.start | type) != "string" then ""
   elif ($s | has("prestart") or has("poststart")) or ($s.start | test("[[:cntrl:]]"))
        or ($s.start | test("\\$\\{?(npm_|INIT_CWD)"))
        or ($s.start | test("^\\s*$")) then "npm start" | tojson
   else $s.start | sub("^\\s+"; "") | sub("\\s+$"; "") | tojson end)
