/** Types of global-cloud-preload.mjs (see there). */
export interface GlobalCloudHost {
  readonly host: string;
  readonly port: number;
  readonly serve: 'https' | 'imap' | 'smtp';
  readonly marker: string;
}

export declare const GLOBAL_CLOUD_HOSTS: readonly GlobalCloudHost[];

export interface GlobalCloudPorts {
  https: number;
  imap: number;
  smtp: number;
  /** The emulator's CA (PEM), trusted on connections to the routed names only. */
  ca?: string;
}

/** Removes the routes; `routed` lists the connections that went through them (`host:port`). */
export interface UninstallRoutes {
  (): void;
  readonly routed: readonly string[];
}

export declare function installGlobalCloudRoutes(ports: GlobalCloudPorts): UninstallRoutes;
