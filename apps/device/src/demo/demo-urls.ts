/** A device of the demo as the launcher prints it. */
export interface DemoDevice {
  /** Its folder under the demo dir and its `name=` on the page. */
  name: string
  /** Who it is, for the person: "Alice's laptop". */
  label: string
  api: string
  token: string
  pid: number
  /** The app driving this device through its API. */
  page: string
}

/** The app's page for a Node device: the page's RemoteDevice client reads `api`, `token` and `name`. */
export function devicePage(app: string, device: { api: string; token: string; name: string }): string {
  return `${app}?${new URLSearchParams({ api: device.api, token: device.token, name: device.name })}`
}

/** The app's page for a new device in the browser (its engine in the tab), to link to an account; `relay` is the relay's WebSocket address. */
export function newDevicePage(app: string, relayWs: string): string {
  return `${app}?${new URLSearchParams({ device: 'new', relay: relayWs })}`
}

export function describeDemo(demo: { app: string; relay: string; relayWs: string; dir: string; devices: DemoDevice[]; newDevice: string }): string {
  const width = Math.max(...demo.devices.map(d => d.label.length), 'A new device'.length)
  return [
    `Tandem demo: ready (its data is in ${demo.dir}; \`npm start -- --fresh\` starts it over)`,
    `  relay  ${demo.relay}`,
    `         browsers reach it at ${demo.relayWs}`,
    `  app    ${demo.app}`,
    '',
    'Open a device in your browser:',
    ...demo.devices.map(d => `  ${d.label.padEnd(width)}  ${d.page}`),
    `  ${'A new device'.padEnd(width)}  ${demo.newDevice}`,
    "        (the engine runs in the tab: link it from one of Alice's devices with the code it shows)",
    '',
    'Ctrl-C stops everything.'
  ].join('\n')
}
