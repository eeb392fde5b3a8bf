/** ih_ver: u8 major, u8 minor, u16 revision, u32 build_num (imgtool `--version X.Y.Z[+B]`). */
export interface ImageVersion {
  major: number;
  minor: number;
  revision: number;
  build: number;
}

const VERSION_RE = /^(\d+)(?:\.(\d+)(?:\.(\d+))?)?(?:\+(\d+))?$/;

export function parseVersion(text: string): ImageVersion {
  const m = VERSION_RE.exec(text.trim());
  if (!m) throw new RangeError(`version '${text}' is not X[.Y[.Z]][+B]`);
  const v = {
    major: Number(m[1]),
    minor: Number(m[2] ?? 0),
    revision: Number(m[3] ?? 0),
    build: Number(m[4] ?? 0),
  };
  checkVersion(v, text);
  return v;
}

export function checkVersion(v: ImageVersion, text = formatVersion(v)): void {
  const limits: [keyof ImageVersion, number][] = [
    ["major", 0xff],
    ["minor", 0xff],
    ["revision", 0xffff],
    ["build", 0xffffffff],
  ];
  for (const [k, max] of limits)
    if (!Number.isInteger(v[k]) || v[k] < 0 || v[k] > max)
      throw new RangeError(`version '${text}': ${k} must be 0..${max}`);
}

/** Zephyr img_mgmt's form: "%u.%u.%u", plus ".%u" of build_num only when it is not 0. */
export function formatVersion(v: ImageVersion): string {
  const base = `${v.major}.${v.minor}.${v.revision}`;
  return v.build !== 0 ? `${base}.${v.build}` : base;
}

/** Ordering used by downgrade prevention: major, minor, revision, then build. */
export function compareVersions(a: ImageVersion, b: ImageVersion): number {
  return a.major - b.major || a.minor - b.minor || a.revision - b.revision || a.build - b.build;
}
