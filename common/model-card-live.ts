// The model card's live section, rendered by the server on each request (server/plugins/model-card.ts)
// in place of the stored card's LIVE_MARKER line: drift since the served version was loaded, and
// live quality from ground-truth feedback.
import type { DriftSnapshot, LiveQuality, ServingInfo } from './contract';
import { cell, num, pct, table } from './markdown';
import { LIVE_MARKER } from './model-card';

/** What the server knows live about a version. */
export interface LiveInputs {
  model: string;
  version: number;
  /** The version the server serves now, or null. */
  serving: ServingInfo | null;
  /** The served version's drift window (null when this version is not served). */
  drift: DriftSnapshot | null;
  /** Live quality of this version from ground-truth feedback, when any. */
  quality: LiveQuality | null;
  at: string;
}

function driftLines(drift: DriftSnapshot): string[] {
  const out = [`Drift window: ${drift.windowRows} of ${drift.windowSize} rows.`, ''];
  if (drift.windowRows === 0) return [...out, '_No predictions in the window yet._'];
  const worst = Math.max(...drift.features.map((f) => f.psi));
  const rows = drift.features.map((f) => {
    const name = f.psi === worst && worst > 0 ? `**${cell(f.name)}**` : cell(f.name);
    return [name, f.kind, num(f.psi), f.kind === 'numeric' ? num(f.ks) : '–', f.kind === 'numeric' ? num(f.mean) : pct(f.unseenShare)];
  });
  out.push(table(['feature', 'kind', 'PSI', 'KS', 'mean / unseen share'], rows));
  if (drift.classes) {
    const c = drift.classes;
    out.push(
      '',
      `Predicted classes: PSI ${num(c.psi)}, Jensen–Shannon ${num(c.jensenShannon)}; shares ` +
        c.labels.map((l, i) => `${cell(l)} ${pct(c.shares[i] ?? 0)}`).join(', ') +
        '.',
    );
  }
  for (const t of drift.targets ?? []) out.push('', `Predicted ${cell(t.name)}: PSI ${num(t.psi)}, KS ${num(t.ks)}, mean ${num(t.mean)}.`);
  return out;
}

function qualityLines(q: LiveQuality | null): string[] {
  if (!q) return ['Live quality: _no ground-truth feedback for this version (POST /feedback)._'];
  const head = `Live quality over ${q.labelled} labelled predictions (window ${q.windowSize})`;
  const delay = q.labelDelayMs ? `; label delay p50 ${Math.round(q.labelDelayMs.p50)} ms, max ${Math.round(q.labelDelayMs.max)} ms` : '';
  const out = [`${head}${delay}:`, ''];
  if (q.classification) {
    const c = q.classification;
    out.push(
      `accuracy ${num(c.accuracy)}, macro F1 ${num(c.macroF1)}; recall ` +
        Object.entries(c.recall)
          .map(([label, r]) => `${cell(label)} ${num(r)}`)
          .join(', ') +
        '.',
    );
  }
  if (q.regression) out.push(`MAE ${num(q.regression.mae)}, RMSE ${num(q.regression.rmse)}.`);
  return out;
}

/** The live section: drift since the served version was loaded, and live quality from feedback. */
export function renderLiveSection(live: LiveInputs): string {
  const s = live.serving;
  const served = s !== null && s.model === live.model && s.version === live.version;
  const out = [`_As of ${live.at}._`, ''];
  if (served) {
    out.push(`Served by this server since ${s.loadedAt} (as ${cell(String(s.selector))}).`, '');
    out.push(...(live.drift ? driftLines(live.drift) : ['_No drift data._']));
  } else {
    const now = s ? `it serves ${cell(s.model)} version ${s.version}` : 'it serves no model';
    out.push(`Not served by this server now (${now}): no drift data for this version.`);
  }
  out.push('', ...qualityLines(live.quality));
  return out.join('\n');
}

/** The stored card with its marker replaced by the live section. A card without the marker gets it appended. */
export function withLiveSection(stored: string, live: LiveInputs): string {
  const at = stored.indexOf(LIVE_MARKER);
  const body = at >= 0 ? stored.slice(0, at) : `${stored.trimEnd()}\n\n## Live quality and drift\n\n`;
  return `${body}${renderLiveSection(live)}\n`;
}
