/**
 * The clause catalogue (clauses.yaml): the documents the project's tests check, each cited by
 * name, revision and public URL, and every clause of them the qualification matrix lists.
 * A clause is cited as "<name> <revision> <section>" ("AN5185 Rev 1 §2.2.2", "DFU 1.1
 * Version 1.1 §6.1.2") with the document's public URL; nothing points at the workspace
 * copies the project was started from (`copy`), unless HIL_DOCS_URL says where a lab
 * publishes them.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { workRoot } from "../seams/paths.js";

/** Allure's severities, most severe first; the gate blocks on the first two. */
export const SEVERITIES = ["blocker", "critical", "normal", "minor", "trivial"] as const;
export type Severity = (typeof SEVERITIES)[number];

const SourceSchema = z
  .object({
    /** Key used by a document group's `cites`. */
    id: z.string().min(1),
    /** How a clause text names it, and the first word of its citation: "AN5185", "DFU 1.1". */
    name: z.string().min(1),
    title: z.string().min(1),
    /** The revision the project was built against: "Rev 1", "Version 1.1", a commit. */
    revision: z.string().min(1),
    /** When that revision was published, where known. */
    date: z.string().min(1).optional(),
    /** Its public address; absent for a document that has none (the project's own design). */
    url: z.string().url().optional(),
    /** The copy beside the project it was read from, relative to HIL_DOCS_URL when a lab publishes them. */
    copy: z.string().min(1).optional(),
  })
  .strict();

const CatalogueSchema = z
  .object({
    sources: z.array(SourceSchema).min(1),
    documents: z.array(
      z
        .object({
          document: z.string().min(1),
          set: z.string().min(1).optional(),
          /** Ids of the sources its clauses come from; the first one unless a clause names another. */
          cites: z.array(z.string().min(1)).min(1),
          /** Severity of a failure against this document's clauses (default normal). */
          severity: z.enum(SEVERITIES).optional(),
          /** A clause, or a clause with its own severity. */
          clauses: z.array(
            z.union([
              z.string().min(1),
              z.object({ clause: z.string().min(1), severity: z.enum(SEVERITIES) }).strict(),
            ]),
          ),
        })
        .strict(),
    ),
  })
  .strict();

export type DocumentSource = z.infer<typeof SourceSchema>;

export interface CatalogueDocument {
  document: string;
  set?: string | undefined;
  /** The sources its clauses come from (the first is the default). */
  sources?: DocumentSource[] | undefined;
  clauses: string[];
  /** Severity per clause, where the catalogue gives one (else the document's, else normal). */
  severities?: Record<string, Severity> | undefined;
}
export interface ClauseCatalogue {
  documents: CatalogueDocument[];
}

/** A clause's citation: the document by name, revision and section, and where to read it. */
export interface Citation {
  /** "AN5185 Rev 1 §2.2.2". */
  text: string;
  /** The document's public address, if it has one. */
  url?: string | undefined;
  source: DocumentSource;
}

const CATALOGUE_PATH = fileURLToPath(new URL("./clauses.yaml", import.meta.url));

/** A team's own clauses, beside its suites: documents (and sources) added to the built-in ones. */
export const TEAM_CLAUSES_FILE = "hil-clauses.yaml";

/** Same form as clauses.yaml; its documents may cite the built-in sources, so it needs none of its own. */
const TeamCatalogueSchema = CatalogueSchema.extend({ sources: z.array(SourceSchema).default([]) });

/**
 * The team's clause file: HIL_CLAUSES, else hil-clauses.yaml in the project the command works
 * for (seams/paths.ts workRoot), if there is one. @throws when HIL_CLAUSES names a missing file.
 */
export function teamCataloguePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.HIL_CLAUSES) {
    if (!existsSync(env.HIL_CLAUSES)) throw new Error(`HIL_CLAUSES: no clause file ${env.HIL_CLAUSES}`);
    return env.HIL_CLAUSES;
  }
  const path = join(workRoot(), TEAM_CLAUSES_FILE);
  return existsSync(path) ? path : undefined;
}

function normalize(
  raw: unknown,
  path: string,
  inherited: readonly DocumentSource[] = [],
): ClauseCatalogue & { sources: DocumentSource[] } {
  const parsed = (inherited.length > 0 ? TeamCatalogueSchema : CatalogueSchema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${path}: ${issue.path.join(".")}: ${issue.message}`);
  }
  const byId = new Map(inherited.map((s) => [s.id, s]));
  parsed.data.sources.forEach((s, i) => {
    if (byId.has(s.id)) throw new Error(`${path}: sources.${i}.id: '${s.id}' is already a source`);
    byId.set(s.id, s);
  });
  return {
    sources: [...byId.values()],
    documents: parsed.data.documents.map((d, i) => {
      const sources = d.cites.map((id, j) => {
        const s = byId.get(id);
        if (!s) throw new Error(`${path}: documents.${i}.cites.${j}: no source with id '${id}'`);
        return s;
      });
      const severities: Record<string, Severity> = {};
      const clauses = d.clauses.map((c) => {
        const text = typeof c === "string" ? c : c.clause;
        severities[text] = typeof c === "string" ? (d.severity ?? "normal") : c.severity;
        return text;
      });
      return { document: d.document, set: d.set, sources, clauses, severities };
    }),
  };
}

/** The built-in catalogue with the team's documents after it (their clauses are matrix rows too). */
function withTeam(
  builtin: ClauseCatalogue & { sources: DocumentSource[] },
  team?: { raw: unknown; path: string },
) {
  if (!team) return { documents: builtin.documents };
  const own = normalize(team.raw, team.path, builtin.sources);
  return { documents: [...builtin.documents, ...own.documents] };
}

/**
 * The clause catalogue: the repository's (harness/report/clauses.yaml) plus the team's
 * (teamCataloguePath), or another file alone.
 */
export async function loadCatalogue(path = CATALOGUE_PATH): Promise<ClauseCatalogue> {
  const builtin = normalize(parseYaml(await readFile(path, "utf8")), path);
  const teamPath = path === CATALOGUE_PATH ? teamCataloguePath() : undefined;
  return withTeam(
    builtin,
    teamPath ? { raw: parseYaml(await readFile(teamPath, "utf8")), path: teamPath } : undefined,
  );
}

let cached: ClauseCatalogue | undefined;

/** The catalogue of loadCatalogue(), read once per process (suites label results while they run). */
export function catalogueSync(): ClauseCatalogue {
  if (cached) return cached;
  const teamPath = teamCataloguePath();
  cached = withTeam(
    normalize(parseYaml(readFileSync(CATALOGUE_PATH, "utf8")), CATALOGUE_PATH),
    teamPath ? { raw: parseYaml(readFileSync(teamPath, "utf8")), path: teamPath } : undefined,
  );
  return cached;
}

/** The document holding `clause` and the clause's severity, if the catalogue knows it. */
export function findClause(
  catalogue: ClauseCatalogue,
  clause: string,
): { document: CatalogueDocument; severity: Severity } | undefined {
  const document = catalogue.documents.find((d) => d.clauses.includes(clause));
  if (!document) return undefined;
  return { document, severity: document.severities?.[clause] ?? "normal" };
}

/** "AN5185 Rev 1"; "DFU 1.1" alone, its name already says its revision. */
export function sourceName(s: DocumentSource): string {
  return s.name.endsWith(s.revision) ? s.name : `${s.name} ${s.revision}`;
}

/** A section reference inside a clause's text: "§2.2.2", "Table 11", "Appendix A", "Pattern 16". */
const SECTION = /§\s?\d+(?:\.\d+)*|\bTable \d+|\bAppendix [A-Z]\b|\bPattern \d+|\bFigure \d+/;

/**
 * The citation of `clause` in `document`: the source the clause text starts with (else the
 * document's first), its revision, and the section the clause names after the source's name.
 */
export function citationOf(document: CatalogueDocument, clause: string): Citation | undefined {
  const sources = document.sources ?? [];
  // The longest name wins: "MCUboot design.md: ..." is the design page, not the source tree.
  const named = sources
    .filter((s) => clause.startsWith(s.name))
    .sort((a, b) => b.name.length - a.name.length)[0];
  const source = named ?? sources[0];
  if (!source) return undefined;
  // Only the part before a ";" speaks of this source ("design.md: ...; AN3156 §5 ...").
  const own = named ? clause.slice(source.name.length).split(";")[0]! : "";
  const section = SECTION.exec(own)?.[0];
  return {
    text: [sourceName(source), section].filter(Boolean).join(" "),
    url: source.url,
    source,
  };
}

/**
 * Where a lab publishes the workspace copies of the documents (HIL_DOCS_URL), if it does;
 * `copy` paths are relative to it. Unset: reports link the public addresses only.
 */
export function docsMirror(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.HIL_DOCS_URL?.trim();
  return base ? base.replace(/\/+$/, "") : undefined;
}

/** The links a result gets for a citation: the public address, and the lab's copy when published. */
export function citationLinks(
  c: Citation,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; name: string }[] {
  const links: { url: string; name: string }[] = [];
  if (c.url) links.push({ url: c.url, name: c.text });
  const mirror = docsMirror(env);
  if (mirror && c.source.copy)
    links.push({ url: `${mirror}/${c.source.copy}`, name: `${c.text} (lab copy)` });
  return links;
}
