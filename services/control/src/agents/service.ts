// The weft.control.v1.Agent gRPC service: one Session stream per agent. The first message must
// be Hello (host name and underlay address), whose host name the client certificate must prove
// (identity.ts); then PortStatus and Ack messages in any order.
import { isIP } from 'node:net';
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { type Logger, WeftError } from '@weft/kit';
import type { AgentHandlers } from '@weft/proto/gen/weft/control/v1/Agent.js';
import type { AgentMessage__Output } from '@weft/proto/gen/weft/control/v1/AgentMessage.js';
import type { ControlMessage } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import type { Hello__Output } from '@weft/proto/gen/weft/control/v1/Hello.js';
import { errors } from '../errors.js';
import type { AgentHub } from './hub.js';
import { checkAgentIdentity } from './identity.js';
import { AgentSession, type AgentStream } from './session.js';

type Call = ServerDuplexStream<AgentMessage__Output, ControlMessage>;

function validateHello(hello: Hello__Output): WeftError | undefined {
  if (!hello.host_name || hello.host_name.length > 255) {
    return errors.INVALID_FIELD({
      field: 'hello.host_name',
      reason: 'must be the virtual-router name, 1 to 255 characters',
    });
  }
  if (isIP(hello.underlay_address) === 0) {
    return errors.INVALID_FIELD({
      field: 'hello.underlay_address',
      reason: `${JSON.stringify(hello.underlay_address)} is not an IPv4 or IPv6 address`,
    });
  }
  return undefined;
}

function failCall(call: Call, error: WeftError): void {
  call.emit('error', { code: error.grpcStatus, details: error.message });
}

function streamOf(call: Call): AgentStream {
  return {
    // A Buffer passes through the service's serializer as it is (wire.ts).
    write: (message) => call.write(message as ControlMessage),
    onDrain: (callback) => call.once('drain', callback),
    end: (error) => {
      if (call.cancelled || call.writableEnded) return;
      if (error instanceof WeftError) failCall(call, error);
      else call.end();
    },
  };
}

export interface AgentServiceOptions {
  /** Client certificates are checked (a CA is configured): a hello must be proven by one. */
  requireCertificate: boolean;
  /** False (WEFT_CONTROL_AGENT_IDENTITY=hello): the hello is believed, whatever the certificate. */
  checkCertificate: boolean;
  isStopping: () => boolean;
}

export function agentService(hub: AgentHub, logger: Logger, options: AgentServiceOptions): AgentHandlers {
  const { isStopping, requireCertificate, checkCertificate } = options;
  const log = logger.child({ component: 'agent-service' });
  return {
    Session(call: Call) {
      if (isStopping()) {
        failCall(call, errors.SHUTTING_DOWN({}));
        return;
      }
      let session: AgentSession | undefined;
      const finish = () => {
        if (session) hub.detach(session);
        session = undefined;
      };
      call.on('data', (message: AgentMessage__Output) => {
        if (!session) {
          if (message.body !== 'hello' || !message.hello) {
            failCall(call, errors.HELLO_FIRST({ got: message.body ?? 'an empty message' }));
            return;
          }
          const invalid = validateHello(message.hello);
          if (invalid) {
            log.warn({ peer: call.getPeer() }, invalid.message);
            failCall(call, invalid);
            return;
          }
          const { host_name, underlay_address, has_state, version } = message.hello;
          const certificate = call.getAuthContext()?.sslPeerCertificate;
          const unproven = checkCertificate
            ? checkAgentIdentity(host_name, certificate, requireCertificate)
            : undefined;
          if (unproven) {
            hub.sessionRefused(unproven.code);
            log.warn({ peer: call.getPeer(), host: host_name, code: unproven.code }, unproven.message);
            failCall(call, unproven);
            return;
          }
          session = new AgentSession(host_name, underlay_address, has_state, version, streamOf(call), hub);
          hub.attach(session);
          return;
        }
        if (session.closed) return;
        if (message.body === 'ack' && message.ack) session.ack(Number(message.ack.seq));
        else if (message.body === 'port' && message.port) hub.portStatus(session, message.port);
        else if (message.body === 'hello')
          failCall(call, errors.INVALID_FIELD({ field: 'hello', reason: 'was already sent on this stream' }));
      });
      call.on('end', () => {
        finish();
        if (!call.writableEnded) call.end();
      });
      call.on('cancelled', finish);
      call.on('error', finish);
      call.on('close', finish);
    },
  };
}
