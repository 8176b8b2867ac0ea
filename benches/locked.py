"""Locked (atomic read-modify-write) instructions a server executed per request, from a callgrind
profile recorded with `--dump-instr=yes`: the addresses of every `lock`-prefixed instruction and
every `xchg` with memory in each object (by `objdump -d`), matched against the profile's count
for each instruction. Callgrind counts such an instruction as one, but natively each costs
~6 ns (an uncontended `lock xadd` on this machine), so they are reported apart.

    python3 benches/locked.py PROFILE REQUESTS [TOP]

Prints the total per request, then per object and, with TOP, the TOP functions executing most.
Used by benches/instructions.sh.
"""
import collections
import re
import subprocess
import sys

LOCKED = re.compile(r"\block\b|^xchg\S*\s+(\S+,)?\S*\(")


def locked_addresses(obj, cache={}):
    if obj not in cache:
        listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", obj], capture_output=True, text=True).stdout
        cache[obj] = {
            int(m.group(1), 16)
            for m in (re.match(r"\s*([0-9a-f]+):\s+(.*)", line) for line in listing.splitlines())
            if m and LOCKED.search(m.group(2))
        }
    return cache[obj]


def main():
    profile, requests = sys.argv[1], int(sys.argv[2])
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    names = {}

    def name(kind, text):
        m = re.match(r"\((\d+)\)(?: (.*))?", text)
        if not m:
            return text
        if m.group(2) is not None:
            names[(kind, m.group(1))] = m.group(2)
        return names.get((kind, m.group(1)), text)

    by_object, by_function = collections.Counter(), collections.Counter()
    obj = function = None
    address, after_call = 0, False
    for line in open(profile):
        line = line.rstrip("\n")
        for prefix, kind in (("ob=", "ob"), ("cob=", "ob"), ("fn=", "fn"), ("cfn=", "fn")):
            if line.startswith(prefix):
                value = name(kind, line[len(prefix):])
                if prefix == "ob=":
                    obj = value
                elif prefix == "fn=":
                    function = value
                break
        else:
            if line.startswith(("fl=", "fi=", "fe=", "cfi=", "cfl=")):
                name("fl", line.split("=", 1)[1])
                continue
            if line.startswith("calls="):
                after_call = True
                continue
            if not line or not (line[0] in "+-*" or line[0].isdigit()):
                continue
            fields = line.split()
            position = fields[0]
            if position.startswith(("+", "-")):
                step = int(position[1:], 0)
                address += step if position[0] == "+" else -step
            elif position != "*":
                address = int(position, 0)
            if after_call:
                after_call = False
                continue
            if obj and len(fields) > 2 and address in locked_addresses(obj):
                count = int(fields[2])
                by_object[obj.rsplit("/", 1)[-1]] += count
                by_function[function] += count
    print(f"{sum(by_object.values()) / requests:.1f}")
    if top:
        for obj, count in by_object.most_common():
            print(f"  {count / requests:6.1f}  {obj}", file=sys.stderr)
        for function, count in by_function.most_common(top):
            print(f"  {count / requests:6.1f}  {function[:160]}", file=sys.stderr)


main()
