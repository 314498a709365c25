// What the phone detector knows of the world's numbering plans, read from
// libphonenumber-js's metadata (Google's libphonenumber data) once at load, never
// hand-written: the country calling codes, and per region its national prefix (the
// trunk 0, 1 or 8 dialled before a national number) and the possible lengths of its
// national significant numbers. Lengths are kept as bit masks (bit n: n digits), so a
// candidate is checked with a few array reads, no parse.
import { createRequire } from 'node:module';

interface MetadataJson {
  country_calling_codes: Record<string, string[]>;
  countries: Record<string, unknown[]>;
  nonGeographic?: Record<string, unknown[]>;
}

const metadata = createRequire(import.meta.url)('libphonenumber-js/metadata.min.json') as MetadataJson;

// The layout of a region's entry in the min metadata: [calling code, international
// prefix, national number pattern, possible lengths, formats, national prefix, ...].
const LENGTHS = 3;
const NATIONAL_PREFIX = 5;

const maskOf = (lengths: unknown): number => {
  let m = 0;
  if (Array.isArray(lengths)) for (const n of lengths) if (typeof n === 'number' && n < 31) m |= 1 << n;
  return m;
};

/** Possible national-number lengths by country calling code (index: the code, 1..999; 0 when unassigned). */
export const CC_LENGTHS = new Int32Array(1000);
for (const [cc, regions] of Object.entries(metadata.country_calling_codes)) {
  let m = 0;
  for (const r of regions) m |= maskOf(metadata.countries[r]?.[LENGTHS]);
  for (const ng of Object.values(metadata.nonGeographic ?? {})) if (ng[0] === cc) m |= maskOf(ng[LENGTHS]);
  CC_LENGTHS[Number(cc)] = m;
}

export const REGIONS: readonly string[] = Object.keys(metadata.countries);

/**
 * Regions the detector assumes national numbers (written without a country code) come
 * from when none are configured: the countries of the EU and EFTA, the UK, North
 * America and the largest other markets. International numbers count from anywhere.
 */
export const DEFAULT_REGIONS: readonly string[] = [
  'US', 'CA', 'MX', 'BR', 'AR', 'GB', 'IE', 'DE', 'AT', 'CH', 'LI', 'FR', 'BE', 'NL', 'LU', 'IT', 'ES', 'PT', 'DK', 'SE',
  'NO', 'FI', 'IS', 'PL', 'CZ', 'SK', 'HU', 'SI', 'HR', 'RO', 'BG', 'GR', 'CY', 'MT', 'EE', 'LV', 'LT', 'IN', 'AU', 'NZ',
  'JP', 'KR', 'CN', 'SG', 'ZA', 'IL', 'TR',
];

/**
 * The national numbering of a set of regions: for each national prefix in use (''
 * for none), the total digit counts a national number can have when written with it.
 */
export interface NationalPlan {
  readonly regions: readonly string[];
  /** prefix -> mask of total lengths (prefix digits included) */
  readonly withPrefix: ReadonlyArray<{ prefix: string; mask: number }>;
  /** mask of lengths written without a national prefix */
  readonly bare: number;
  /** whether NANP (+1) regions are among them: the NXX-NXX-XXXX shapes count */
  readonly nanp: boolean;
}

export function nationalPlan(regions: readonly string[]): NationalPlan {
  const byPrefix = new Map<string, number>();
  let bare = 0;
  let nanp = false;
  for (const r of regions) {
    const entry = metadata.countries[r];
    if (!entry) throw new Error(`unknown phone region ${r}`);
    const lengths = maskOf(entry[LENGTHS]);
    bare |= lengths;
    if (entry[0] === '1') nanp = true;
    const p = entry[NATIONAL_PREFIX];
    if (typeof p === 'string' && p.length > 0) byPrefix.set(p, (byPrefix.get(p) ?? 0) | (lengths << p.length));
  }
  return { regions, bare, nanp, withPrefix: [...byPrefix].map(([prefix, mask]) => ({ prefix, mask })) };
}
