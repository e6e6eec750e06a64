"""mcu_map.py - what a GNU ld linker map says each input object put into the
firmware, for scripts/mcu-size.sh: every input section the link kept
(--gc-sections: unused functions do not count), summed by part and kind.

  sizes, paths = parse_map(MAP, part_of)

part_of(path) names the part an object (a path as the map prints it, an
archive member as "lib.a(member.o)") belongs to; sizes[part] is a dict of
text, rodata, data and bss bytes; paths lists every object seen.
"""

import re

KINDS = ("text", "rodata", "data", "bss")


def kind_of(sec):
    if sec.startswith((".text", ".isr_vector", ".init", ".fini", ".glue_7", ".vfp11")):
        return "text"
    if sec.startswith((".rodata", ".ARM.extab", ".ARM.exidx", ".preinit_array",
                       ".init_array", ".fini_array")):
        return "rodata"
    if sec.startswith(".data"):
        return "data"
    if sec.startswith((".bss", "COMMON")):
        return "bss"
    return None


def parse_map(mapf, part_of):
    sizes = {}
    paths = set()
    lines = open(mapf).read().split("\n")
    start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    pending = None
    pat_full = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    pat_cont = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
    pat_name = re.compile(r"^ (\S+)$")
    for l in lines[start:]:
        m = pat_full.match(l)
        if m:
            sec, size, path = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m = pat_cont.match(l)
            if m and pending:
                sec, size, path = pending, int(m.group(2), 16), m.group(3)
            else:
                m2 = pat_name.match(l)
                pending = m2.group(1) if m2 else None
                continue
        pending = None
        k = kind_of(sec)
        if k is None or size == 0 or not path.startswith("/"):
            continue
        paths.add(path)
        d = sizes.setdefault(part_of(path), dict.fromkeys(KINDS, 0))
        d[k] += size
    return sizes, sorted(paths)
