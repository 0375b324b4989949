import { ISignal } from '@lumino/signaling';
import { useEffect, useState } from 'react';

/** Re-render when `signal` fires (coalesced to one render per animation frame). */
export function useSignal(signal: ISignal<any, any> | null | undefined): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!signal) {
      return;
    }
    let frame: number | null = null;
    const onSignal = () => {
      if (frame === null) {
        frame = requestAnimationFrame(() => {
          frame = null;
          setTick(t => t + 1);
        });
      }
    };
    signal.connect(onSignal);
    return () => {
      signal.disconnect(onSignal);
      if (frame !== null) {
        cancelAnimationFrame(frame);
      }
    };
  }, [signal]);
  return tick;
}

/** A value that changes every `seconds` (for relative times). */
export function useNow(seconds: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), Math.max(1, seconds) * 1000);
    return () => clearInterval(t);
  }, [seconds]);
  return now;
}
