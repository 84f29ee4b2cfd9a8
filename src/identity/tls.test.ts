import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { WeirError } from '../model/index.js';
import { loadGatewayTls } from './tls.js';

const F = fileURLToPath(new URL('../../test/fixtures/tls/', import.meta.url));

describe('loadGatewayTls', () => {
  test('no option: no TLS; cert and key (and client CA): their PEM texts', () => {
    expect(loadGatewayTls({})).toBeUndefined();
    const plain = loadGatewayTls({ certFile: `${F}proxy.pem`, keyFile: `${F}proxy-key.pem` });
    expect(plain?.cert).toContain('BEGIN CERTIFICATE');
    expect(plain?.clientCa).toBeUndefined();
    const mutual = loadGatewayTls({
      certFile: `${F}proxy.pem`,
      keyFile: `${F}proxy-key.pem`,
      clientCaFile: `${F}client-ca.pem`,
    });
    expect(mutual?.clientCa).toContain('BEGIN CERTIFICATE');
  });

  test.each([
    [
      { certFile: `${F}proxy.pem` },
      "--proxy-tls-cert: needs --proxy-tls-key (the certificate's private key)",
    ],
    [
      { keyFile: `${F}proxy-key.pem` },
      '--proxy-tls-key: needs --proxy-tls-cert (the certificate of this key)',
    ],
    [
      { clientCaFile: `${F}client-ca.pem` },
      '--proxy-client-ca: needs --proxy-tls-cert and --proxy-tls-key (client certificates are asked for only over TLS)',
    ],
    [
      { certFile: `${F}nope.pem`, keyFile: `${F}proxy-key.pem` },
      `--proxy-tls-cert: cannot read ${F}nope.pem (ENOENT)`,
    ],
    [
      { certFile: `${F}proxy.pem`, keyFile: `${F}nope-key.pem` },
      `--proxy-tls-key: cannot read ${F}nope-key.pem (ENOENT)`,
    ],
    [
      { certFile: `${F}proxy-key.pem`, keyFile: `${F}proxy-key.pem` },
      `--proxy-tls-cert: ${F}proxy-key.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ],
    [
      { certFile: `${F}proxy.pem`, keyFile: `${F}client-cn-key.pem` },
      `--proxy-tls-key: ${F}client-cn-key.pem is not the private key of the certificate in ${F}proxy.pem`,
    ],
    [
      { certFile: `${F}proxy.pem`, keyFile: `${F}proxy-key.pem`, clientCaFile: `${F}proxy-key.pem` },
      `--proxy-client-ca: ${F}proxy-key.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)`,
    ],
    [
      { certFile: `${F}proxy.pem`, keyFile: `${F}proxy-key.pem`, clientCaFile: `${F}missing-ca.pem` },
      `--proxy-client-ca: cannot read ${F}missing-ca.pem (ENOENT)`,
    ],
  ])('%j → %s', (files, message) => {
    const thrown = (() => {
      try {
        loadGatewayTls(files);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(WeirError);
    expect(thrown).toMatchObject({ code: 'BAD_OPTION', message });
  });

  test('a key file that is not a key names --proxy-tls-key', () => {
    expect(() => loadGatewayTls({ certFile: `${F}proxy.pem`, keyFile: `${F}proxy.pem` })).toThrow(
      /^--proxy-tls-key: .*proxy\.pem holds no usable PEM private key/,
    );
  });
});
