import { elementScroll, observeElementOffset, observeElementRect, type PartialKeys, Virtualizer, type VirtualizerOptions } from '@tanstack/virtual-core'
import { useLayoutEffect, useReducer, useState } from 'preact/hooks'

export type { VirtualItem } from '@tanstack/virtual-core'

/**
 * A windowed list in an element that scrolls: TanStack Virtual's framework-free core (which
 * measures rows of any height, keeps the row being read in place when rows are prepended,
 * and follows appends at the end: what a chat needs), wired to Preact's hooks the way
 * `@tanstack/react-virtual` wires it to React's. That adapter itself would need
 * `preact/compat` aliased for `react-dom` in every build of the app (Vite's, the bench's,
 * the tests'), for twenty lines. Preact renders a state change in a microtask, before the
 * frame is painted, so the core's synchronous notifications need no `flushSync`.
 */
export function useVirtualizer<TItem extends Element>(
  options: PartialKeys<VirtualizerOptions<HTMLElement, TItem>, 'observeElementRect' | 'observeElementOffset' | 'scrollToFn'>
): Virtualizer<HTMLElement, TItem> {
  const [, rerender] = useReducer<number, void>(n => n + 1, 0)
  const resolved: VirtualizerOptions<HTMLElement, TItem> = {
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    ...options,
    onChange: (instance, sync) => {
      rerender()
      options.onChange?.(instance, sync)
    }
  }
  const [instance] = useState(() => new Virtualizer<HTMLElement, TItem>(resolved))
  instance.setOptions(resolved)
  useLayoutEffect(() => instance._didMount(), [])
  useLayoutEffect(() => instance._willUpdate())
  return instance
}
