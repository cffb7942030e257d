import { createMemoryLinkPair } from '../src/index.js'
import { describeLinkConformance } from './link-conformance.js'

describeLinkConformance('createMemoryLinkPair', async () => {
  const [dialer, listener] = createMemoryLinkPair('peer-dialer', 'peer-listener')
  return { dialer, listener, dialerPeerId: 'peer-dialer', listenerPeerId: 'peer-listener', teardown: async () => {} }
})
