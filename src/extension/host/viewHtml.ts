import type { PageOptions } from './webviewPage';

/** The page of a spikes or lab view: the RFM panel's stylesheet plus logs.css, its own bundle. */
export function viewPage(bundle: 'logs' | 'catapult' | 'grokking', title: string): PageOptions {
  return { entry: bundle, bundle, css: ['panel.css', 'logs.css'], title };
}
