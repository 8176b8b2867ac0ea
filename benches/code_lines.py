#!/usr/bin/env python3
"""The code a server runs for each request, in 64-byte cache lines, from a callgrind profile
made with --dump-instr=yes (as benches/instructions.sh makes them).

    python3 benches/code_lines.py PROFILE REQUESTS            # lines run by half the requests or more
    python3 benches/code_lines.py PROFILE REQUESTS --by-function [N]

A line of code counts when the instructions in it ran at least REQUESTS / 2 times: code every
request runs. Under load a request's code does not stay in the 32 KiB L1 instruction cache
between requests (the kernel's and the other connections' code run in between; cachegrind's I1
misses a request come out within 3% of this count), so each line is fetched again on each
request: this counts what the instruction count does not, how spread out the code is.
"""
import collections
import re
import sys


def hot_lines(path, requests):
    """{(object, function): set of line addresses} for the lines run >= requests / 2 times."""
    cost = collections.Counter()
    owner = {}
    names = {"ob": {}, "fn": {}}
    current = {"ob": None, "fn": None}
    address = 0
    positions = 1
    after_call = False
    with open(path) as profile:
        for line in profile:
            first = line[0]
            if first in "0123456789+-*":
                position = line.split(maxsplit=positions + 1)
                step = position[0]
                if step.startswith("0x"):
                    address = int(step, 16)
                elif step[0] in "+-":
                    offset = int(step[1:], 16) if step[1:].startswith("0x") else int(step[1:])
                    address += offset if step[0] == "+" else -offset
                elif step != "*":
                    address = int(step)
                if after_call:  # the inclusive cost of a call, not this line's own
                    after_call = False
                    continue
                if len(position) > positions:
                    cost[address] += int(position[positions].split()[0])
                    owner[address] = (current["ob"], current["fn"])
            elif line.startswith("calls="):
                after_call = True
            elif line.startswith("positions:"):
                positions = len(line.split()) - 1
            else:
                # ob= / fn= set where the next lines are; cob= / cfn= may name an id first.
                match = re.match(r"(c?)(ob|fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
                if match:
                    called, kind, key, name = match.groups()
                    if name is not None:
                        names[kind][key] = name
                    if not called:
                        current[kind] = names[kind].get(key, key)
    lines = collections.defaultdict(set)
    for address, count in cost.items():
        if count * 2 >= requests:
            lines[owner[address]].add(address >> 6)
    return lines


def main():
    path, requests = sys.argv[1], int(sys.argv[2])
    lines = hot_lines(path, requests)
    if "--by-function" in sys.argv:
        rest = sys.argv[sys.argv.index("--by-function") + 1:]
        shown = int(rest[0]) if rest else 40
        ranked = sorted(lines.items(), key=lambda item: -len(item[1]))
        for (obj, function), its in ranked[:shown]:
            print(f"{len(its):5d}  {function}  [{(obj or '?').rsplit('/', 1)[-1]}]")
    # A line shared by two functions counts once.
    print(len({line for its in lines.values() for line in its}))


if __name__ == "__main__":
    main()
