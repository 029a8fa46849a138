#!/usr/bin/env bash
# Checks that includes between the project's folders go one way only, in this order (a
# folder may include itself and any folder to its right, never one to its left):
#   app app/http app/scheduling app/observability app/config middleware controllers services models common verify
# Prints every include that goes the wrong way and exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
order=(app app/http app/scheduling app/observability app/config middleware controllers services models common verify)
rank() {  # rank FOLDER -> its position in $order, or nothing
  local i
  for i in "${!order[@]}"; do [ "${order[$i]}" = "$1" ] && { echo "$i"; return; }; done
}
bad=0
for from in "${order[@]}"; do
  from_rank=$(rank "$from")
  for file in "$from"/*.h "$from"/*.cpp; do
    [ -e "$file" ] || continue
    while IFS= read -r target; do
      to=$(dirname "$target")
      to_rank=$(rank "$to")
      [ -n "$to_rank" ] || continue  # not a project folder (e.g. <pistache/...>)
      if [ "$to_rank" -lt "$from_rank" ]; then
        echo "check-layers: $file includes $target ($from may not include $to)" >&2
        bad=1
      fi
    done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$file")
  done
done
[ "$bad" = 0 ] && echo "check-layers: every include goes one way (${order[*]})"
exit "$bad"
