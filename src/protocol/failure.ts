// A computation a page ran for the host failed: the failure crosses the boundary as plain data and is
// raised again on the host as the error class the placement policy acts on (core/compute.ts runPlaced
// moves on after PlacementUnavailable or BackendError). Shared by every view that computes in its page.
import { PlacementUnavailable } from '../core/compute';
import { BackendError, CancelledError } from '../core/errors';

export interface PageFailure {
  kind: 'unavailable' | 'backend' | 'cancelled' | 'error';
  message: string;
}

/** The page side: an error as a failure message. */
export function failureOf(e: unknown): PageFailure {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof CancelledError) return { kind: 'cancelled', message };
  if (e instanceof PlacementUnavailable) return { kind: 'unavailable', message };
  if (e instanceof BackendError) return { kind: 'backend', message };
  return { kind: 'error', message };
}

/** The host side: a page's failure raised again as the error class the placement policy acts on. */
export function errorOfFailure(f: PageFailure): Error {
  switch (f.kind) {
    case 'unavailable':
      return new PlacementUnavailable(f.message);
    case 'backend':
      return new BackendError('webgpu', f.message.replace(/^webgpu backend: /, ''));
    case 'cancelled':
      return new CancelledError();
    case 'error':
      return new Error(f.message);
  }
}
