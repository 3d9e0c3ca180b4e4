#!/usr/bin/env bash
# The house rules that a reviewer would otherwise check by eye (issue 12;
# docs/architecture.md, "House rules"), over lib/, include/, runtime/, tools/:
#   - no source file over 800 lines, no function over 150 lines (universal-ctags
#     gives each function's first and last line; lambdas count with their function);
#   - the program loader includes nothing of the CPU backend, the trainer no CPU kernel,
#     the kernel-op table (ops/) no backend;
#   - every C++ file is formatted as .clang-format says (clang-format-14, the
#     version scripts/setup.sh installs: other versions format differently).
# Prints every violation and exits 1 if there is one. Run from anywhere.
set -uo pipefail
cd "$(dirname "$0")/.."
dirs=(lib include runtime tools)
status=0
fail() { echo "house: $*"; status=1; }

mapfile -t files < <(find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.h' -o -name '*.cuh' \) | sort)

for f in "${files[@]}"; do
  n=$(wc -l < "$f")
  ((n > 800)) && fail "$f has $n lines (at most 800)"
done

while read -r end start file name; do
  len=$((end - start + 1))
  ((len > 150)) && fail "$file:$start: function $name has $len lines (at most 150)"
done < <(ctags -R --languages=C++ --langmap=C++:+.cuh --kinds-C++=f --fields=+ne -x \
           --_xformat='%{end} %{line} %{input} %{name}' "${dirs[@]}" 2>/dev/null)

while IFS= read -r hit; do
  fail "the program loader must not include the CPU backend: $hit"
done < <(grep -n '#include.*cpu/' runtime/src/program/* 2>/dev/null)
while IFS= read -r hit; do
  fail "the trainer must not include a CPU kernel: $hit"
done < <(grep -n '#include.*cpu/' runtime/src/train/* 2>/dev/null)
while IFS= read -r hit; do
  fail "the kernel-op table is backend-neutral, it must not include a backend: $hit"
done < <(grep -n '#include.*\(cpu\|cuda\)/' runtime/src/ops/* runtime/include/fp8rt/ops/* 2>/dev/null)

clang_format=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$clang_format" >/dev/null; then
  fail "$clang_format not found (scripts/setup.sh installs it)"
else
  unformatted=$("$clang_format" --dry-run "${files[@]}" 2>&1 | grep -o '^[^:]*:[0-9]*:[0-9]*: warning' | cut -d: -f1 | sort -u)
  for f in $unformatted; do
    fail "$f is not clang-formatted (run: $clang_format -i $f)"
  done
fi

((status == 0)) && echo "house: ${#files[@]} files: sizes, function lengths, includes and formatting as the rules say"
exit $status
