import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * The dashboard's live charts (uPlot, a canvas charting library): calls per minute by status and
 * the answer rate per minute, over the last WINDOW_MINUTES. They start from callStats(groupBy:
 * [MINUTE, STATUS]) and then follow callStatus: each STATUS_CHANGED event moves its call from its
 * previous status to the new one in the minute the call was created, exactly as callStats would
 * count it if asked again, so the charts never reload.
 */
const WINDOW_MINUTES = 30;
const MINUTE = 60_000;
/** Statuses whose calls were answered (their answeredAt is set), as callStats' `answered` counts them. */
const ANSWERED = new Set(['IN_PROGRESS', 'VOICEMAIL', 'COMPLETED']);
const COLORS: Record<string, string> = {
  INITIATED: '#9aa5b1',
  RINGING: '#e0b100',
  IN_PROGRESS: '#1f9d55',
  VOICEMAIL: '#8a4fd8',
  COMPLETED: '#2f6fdf',
  FAILED: '#d64545',
  BUSY: '#e07a2f',
  NO_ANSWER: '#b83280',
  CANCELED: '#6b7280',
};

interface Minute {
  byStatus: Map<string, number>;
  total: number;
  answered: number;
}

export interface StatsGroup {
  key: { period: string; status: string };
  count: number;
  answered: number;
}

export interface StatusEvent {
  kind: string;
  status: string;
  previousStatus: string | null;
  call: { createdAt: string };
}

export class LiveCharts {
  private readonly minutes = new Map<number, Minute>();
  private calls: uPlot | null = null;
  private answer: uPlot | null = null;
  private pending = false;

  constructor(
    private readonly statuses: readonly string[],
    private readonly callsElement: HTMLElement,
    private readonly answerElement: HTMLElement,
  ) {}

  /** The range callStats is asked for: the last WINDOW_MINUTES whole minutes and the current one. */
  static range(now = Date.now()): { from: string; to: string } {
    const to = Math.floor(now / MINUTE) * MINUTE + MINUTE;
    return { from: new Date(to - WINDOW_MINUTES * MINUTE).toISOString(), to: new Date(to).toISOString() };
  }

  load(groups: StatsGroup[]): void {
    this.minutes.clear();
    for (const group of groups) {
      const minute = this.minute(Date.parse(group.key.period));
      minute.byStatus.set(group.key.status, (minute.byStatus.get(group.key.status) ?? 0) + group.count);
      minute.total += group.count;
      minute.answered += group.answered;
    }
    this.render();
  }

  /** A callStatus event: its call moves between statuses in the minute it was created. */
  apply(event: StatusEvent): void {
    if (event.kind !== 'STATUS_CHANGED') return;
    const at = Math.floor(Date.parse(event.call.createdAt) / MINUTE) * MINUTE;
    if (at < this.windowStart()) return;
    const minute = this.minute(at);
    if (event.previousStatus) {
      minute.byStatus.set(event.previousStatus, Math.max(0, (minute.byStatus.get(event.previousStatus) ?? 0) - 1));
    } else {
      minute.total += 1;
    }
    minute.byStatus.set(event.status, (minute.byStatus.get(event.status) ?? 0) + 1);
    if (ANSWERED.has(event.status) && !(event.previousStatus && ANSWERED.has(event.previousStatus))) minute.answered += 1;
    this.schedule();
  }

  /** Totals in the window, for the page's own figures (and tests). */
  totals(): { total: number; answered: number } {
    let total = 0;
    let answered = 0;
    for (const [at, minute] of this.minutes) {
      if (at < this.windowStart()) continue;
      total += minute.total;
      answered += minute.answered;
    }
    return { total, answered };
  }

  /** Calls of the window by status (the page's counts). */
  byStatus(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [at, minute] of this.minutes) {
      if (at < this.windowStart()) continue;
      for (const [status, count] of minute.byStatus) counts.set(status, (counts.get(status) ?? 0) + count);
    }
    return counts;
  }

  /** Re-draws on the next frame (many events in a burst: one drawing). */
  schedule(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  private windowStart(): number {
    return Date.parse(LiveCharts.range().from);
  }

  private minute(at: number): Minute {
    let minute = this.minutes.get(at);
    if (!minute) this.minutes.set(at, (minute = { byStatus: new Map(), total: 0, answered: 0 }));
    return minute;
  }

  private render(): void {
    const start = this.windowStart();
    for (const at of this.minutes.keys()) if (at < start) this.minutes.delete(at);
    const xs: number[] = [];
    for (let at = start; at < start + (WINDOW_MINUTES + 1) * MINUTE; at += MINUTE) xs.push(at / 1000);
    const perStatus = this.statuses.map((status) => xs.map((x) => this.minutes.get(x * 1000)?.byStatus.get(status) ?? 0));
    const rate = xs.map((x) => {
      const minute = this.minutes.get(x * 1000);
      return minute && minute.total > 0 ? Math.round((minute.answered / minute.total) * 1000) / 10 : null;
    });
    const width = Math.max(320, Math.floor(this.callsElement.clientWidth || 560));
    if (!this.calls) {
      this.calls = new uPlot(
        {
          width,
          height: 220,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          series: [{}, ...this.statuses.map((status) => ({ label: status, stroke: COLORS[status] ?? '#333', width: 2, points: { show: false } }))],
          axes: [{}, { label: 'calls' }],
        },
        [xs, ...perStatus],
        this.callsElement,
      );
      this.answer = new uPlot(
        {
          width,
          height: 160,
          scales: { x: { time: true }, y: { range: [0, 100] } },
          series: [{}, { label: 'answer rate %', stroke: '#1f9d55', width: 2, spanGaps: false }],
          axes: [{}, { label: '%' }],
        },
        [xs, rate],
        this.answerElement,
      );
    } else {
      this.calls.setData([xs, ...perStatus]);
      this.answer!.setData([xs, rate]);
    }
    const { total, answered } = this.totals();
    this.callsElement.dataset.total = String(total);
    this.answerElement.dataset.answered = String(answered);
    this.answerElement.dataset.rate = total ? String(Math.round((answered / total) * 1000) / 10) : '';
  }
}
