#!/usr/bin/env python3
"""The code a server runs for each request, in 64-byte cache lines, from a callgrind profile
made with --dump-instr=yes (as benches/instructions.sh makes them).

    python3 benches/code_lines.py PROFILE REQUESTS            # lines run by half the requests or more
    python3 benches/code_lines.py PROFILE REQUESTS --by-function [N]
    python3 benches/code_lines.py PROFILE REQUESTS --bytes BINARY   # and the bytes of code in them

A line of code counts when the instructions in it ran at least REQUESTS / 2 times: code every
request runs. Under load a request's code does not stay in the 32 KiB L1 instruction cache
between requests (the kernel's and the other connections' code run in between; cachegrind's I1
misses a request come out within 3% of this count), so each line is fetched again on each
request: this counts what the instruction count does not, how spread out the code is.

With --bytes (the profiled BINARY, disassembled by objdump), it also prints the bytes of the
instructions in those lines that ran as often, and how full the lines are on average: whether
a server runs more code, or the same code spread over more lines.
"""
import collections
import re
import subprocess
import sys


def hot_lines(path, requests, addresses=None):
    """{(object, function): set of line addresses} for the lines run >= requests / 2 times;
    the instruction addresses run as often are added to `addresses`, when given."""
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
            if addresses is not None:
                addresses.add(address)
    return lines


def instruction_sizes(binary, low, high):
    """{address: size in bytes} of the instructions of `binary` from `low` to `high`."""
    listing = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--start-address={low:#x}",
                              f"--stop-address={high + 16:#x}", binary], capture_output=True, text=True,
                             check=True).stdout
    starts = [int(match.group(1), 16) for match in re.finditer(r"^\s+([0-9a-f]+):", listing, re.M)]
    return {start: end - start for start, end in zip(starts, starts[1:]) if 0 < end - start <= 15}


def main():
    path, requests = sys.argv[1], int(sys.argv[2])
    addresses = set()
    lines = hot_lines(path, requests, addresses)
    if "--bytes" in sys.argv:
        binary = sys.argv[sys.argv.index("--bytes") + 1]
        # The binary's own code only: shared libraries are mapped elsewhere.
        ours = {address for (obj, _), its in lines.items() if obj and obj.endswith(binary.rsplit("/", 1)[-1])
                for address in addresses if address >> 6 in its}
        sizes = instruction_sizes(binary, min(ours), max(ours))
        size = sum(sizes.get(address, 0) for address in ours)
        its_lines = len({address >> 6 for address in ours})
        print(f"{size} bytes of code in {its_lines} lines of the binary ({100 * size / 64 / its_lines:.0f}% full)")
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
