import { describe, expect, it } from 'vitest';
import { isPosternError } from '../../errors/index.js';
import {
  canonicalAddress,
  classifyAddress,
  deliveryRefusalText,
  WebhookTargetGuard,
  type HostResolver,
  type WebhookTargetOptions,
} from './webhook-target.js';

function guard(options: Partial<WebhookTargetOptions> = {}): WebhookTargetGuard {
  return new WebhookTargetGuard({
    allowedNetworks: [],
    publicUrl: 'https://postern.example.com',
    localAddresses: () => ['127.0.0.1', '::1', '192.168.1.20'],
    resolve: async () => [],
    ...options,
  });
}

async function refusalOf(target: WebhookTargetGuard, url: string): Promise<Record<string, unknown> | undefined> {
  try {
    await target.assertRegistrable(url);
    return undefined;
  } catch (error) {
    if (!isPosternError(error, 'WEBHOOK_TARGET_REFUSED')) throw error;
    return { message: error.message, remedy: error.remedy, status: error.status, ...error.details };
  }
}

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['203.0.113.10', 'public'],
    ['1.1.1.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['169.254.169.254', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::808:808', 'public'],
    ['2002:a00:1::1', 'private'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:db8::1', 'public'],
    ['::127.0.0.1', 'reserved'],
    ['100::1', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('is not fooled by names', () => {
    expect(classifyAddress('localhost')).toBeUndefined();
    expect(classifyAddress('127.0.0.1.nip.io')).toBeUndefined();
  });

  it('unmaps IPv4-mapped addresses', () => {
    expect(canonicalAddress('::ffff:10.0.0.5')).toBe('10.0.0.5');
    expect(canonicalAddress('[::FFFF:7f00:1]')).toBe('127.0.0.1');
    expect(canonicalAddress('FD00::1')).toBe('fd00::1');
  });
});

describe('WebhookTargetGuard at registration', () => {
  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://[fd00:ec2::254]/', 'unique-local'],
    ['http://metadata.google.internal/computeMetadata/v1/', 'metadata-name'],
    ['http://METADATA.google.internal./', 'metadata-name'],
    ['http://metadata/', 'metadata-name'],
    ['http://instance-data/', 'metadata-name'],
    ['http://metadata.goog/', 'metadata-name'],
    ['http://127.0.0.1:22/', 'loopback'],
    ['http://localhost/', 'localhost-name'],
    ['http://api.localhost/', 'localhost-name'],
    ['http://[::1]/', 'loopback'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://10.0.0.1/', 'private'],
    ['https://postern.example.com/api/auth/logout', 'own-listener'],
  ])('refuses %s (%s)', async (url, reason) => {
    const refusal = await refusalOf(guard(), url);
    expect(refusal).toMatchObject({ status: 422, reason, fields: [{ field: 'url' }] });
  });

  it('says which class and the remedy, without the query string', async () => {
    const refusal = await refusalOf(guard(), 'http://10.0.0.5:8080/hook?token=s3cret');
    expect(refusal?.message).toBe(
      'The webhook URL is refused: 10.0.0.5 is on a private network; webhooks are not delivered there.',
    );
    expect(refusal?.remedy).toContain('POSTERN_WEBHOOK_ALLOWED_NETWORKS');
    expect(JSON.stringify(refusal)).not.toContain('s3cret');
  });

  it('accepts public addresses and names', async () => {
    const resolve: HostResolver = async () => [{ address: '203.0.113.7', family: 4 }];
    expect(await refusalOf(guard({ resolve }), 'https://crm.example.net/hook')).toBeUndefined();
    expect(await refusalOf(guard(), 'https://203.0.113.10/hook')).toBeUndefined();
    expect(await refusalOf(guard(), 'https://[2606:4700:4700::1111]/hook')).toBeUndefined();
  });

  it('refuses a name when any of its addresses is refused', async () => {
    const resolve: HostResolver = async () => [
      { address: '203.0.113.7', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    const refusal = await refusalOf(guard({ resolve }), 'https://crm.internal.example/hook');
    expect(refusal?.message).toBe(
      'The webhook URL is refused: crm.internal.example resolves to 10.1.2.3, which is on a private network; webhooks are not delivered there.',
    );
  });

  it('accepts a name that does not resolve now, or not in time', async () => {
    const missing: HostResolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await refusalOf(guard({ resolve: missing }), 'https://later.example/hook')).toBeUndefined();
    const hanging: HostResolver = () => new Promise(() => undefined);
    expect(
      await refusalOf(guard({ resolve: hanging, resolveTimeoutMs: 20 }), 'https://slow.example/hook'),
    ).toBeUndefined();
  });

  it('allows listed networks, and nothing else', async () => {
    const target = guard({ allowedNetworks: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8'] });
    expect(await refusalOf(target, 'http://10.9.8.7/hook')).toBeUndefined();
    expect(await refusalOf(target, 'http://127.0.0.1:9000/hook')).toBeUndefined();
    expect(await refusalOf(target, 'http://[::ffff:127.0.0.1]:9000/hook')).toBeUndefined();
    expect(await refusalOf(target, 'http://[fd00:ec2::254]/')).toBeUndefined();
    expect(await refusalOf(target, 'http://127.0.0.2/hook')).toMatchObject({ reason: 'loopback' });
    expect(await refusalOf(target, 'http://192.168.0.1/hook')).toMatchObject({ reason: 'private' });
    // Names are never lifted by the setting.
    expect(await refusalOf(target, 'http://localhost:9000/hook')).toMatchObject({ reason: 'localhost-name' });
  });

  it("refuses Postern's own listener even where loopback is allowed", async () => {
    const target = guard({
      allowedNetworks: ['127.0.0.0/8', '192.168.0.0/16'],
      listeners: [{ host: '0.0.0.0', port: 8080 }],
    });
    expect(await refusalOf(target, 'http://127.0.0.1:8080/api/auth/logout')).toMatchObject({
      reason: 'own-listener',
    });
    expect(await refusalOf(target, 'http://127.0.0.9:8080/')).toMatchObject({ reason: 'own-listener' });
    expect(await refusalOf(target, 'http://192.168.1.20:8080/')).toMatchObject({ reason: 'own-listener' });
    expect(await refusalOf(target, 'http://192.168.1.21:8080/')).toBeUndefined();
    expect(await refusalOf(target, 'http://127.0.0.1:8081/')).toBeUndefined();
    const specific = guard({ allowedNetworks: ['127.0.0.0/8'], listeners: [{ host: '127.0.0.1', port: 8080 }] });
    expect(await refusalOf(specific, 'http://127.0.0.1:8080/')).toMatchObject({ reason: 'own-listener' });
    expect(await refusalOf(specific, 'http://127.0.0.2:8080/')).toBeUndefined();
  });

  it('learns a listener bound after start (port 0)', async () => {
    const target = guard({ allowedNetworks: ['::1'], listeners: [{ host: '::1', port: 0 }] });
    expect(await refusalOf(target, 'http://[::1]:40123/')).toBeUndefined();
    target.addListener({ host: '::1', port: 40123 });
    expect(await refusalOf(target, 'http://[::1]:40123/')).toMatchObject({ reason: 'own-listener' });
  });
});

describe('WebhookTargetGuard at delivery', () => {
  it("words a refusal in Postern's terms, with the remedy", () => {
    const refusal = guard().checkAddress('10.0.0.5', 443, 'crm.example.net');
    expect(refusal).toEqual({ reason: 'private', subject: '10.0.0.5', via: 'crm.example.net' });
    expect(deliveryRefusalText({ reason: 'private', subject: '10.0.0.5' })).toBe(
      "The receiver's address 10.0.0.5 is on a private network; webhooks are not delivered there unless POSTERN_WEBHOOK_ALLOWED_NETWORKS includes it.",
    );
  });

  it('checks the address connected, whatever the name', () => {
    expect(guard().checkAddress('::ffff:169.254.169.254', 80)).toMatchObject({
      reason: 'link-local',
      subject: '169.254.169.254',
    });
    expect(guard().checkAddress('203.0.113.5', 80)).toBeUndefined();
  });
});
