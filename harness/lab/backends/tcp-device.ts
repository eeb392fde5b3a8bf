/**
 * Shared by the backends that talk to an instrument over the network (an LXI bench supply's
 * raw SCPI socket, port 5025): connect at every use, run one exchange, close. One exchange
 * at a time per address in this process (such sockets often take one client). Every
 * failure is an {@link InfrastructureError} naming the owner and host:port: a supply that
 * does not answer is the lab's fault, never the firmware's.
 */
import type { ByteStream } from "../../transport/byte-stream.js";
import type { Clock } from "../../transport/clock.js";
import { openTcpStream } from "../../transport/tcp-stream.js";
import { InfrastructureError } from "../errors.js";

export interface TcpDeviceContext {
  /** "board wb55-nucleo: power (scpi)", for messages. */
  readonly owner: string;
  readonly clock: Clock;
  /** Time limit to connect, and of each answer. */
  readonly commandMs: number;
}

const queues = new Map<string, Promise<unknown>>();

export function withTcpDevice<T>(
  address: string,
  ctx: TcpDeviceContext,
  exchange: (stream: ByteStream) => Promise<T>,
): Promise<T> {
  const before = queues.get(address) ?? Promise.resolve();
  const run = before.catch(() => {}).then(() => once(address, ctx, exchange));
  queues.set(
    address,
    run.catch(() => {}),
  );
  return run;
}

async function once<T>(
  address: string,
  ctx: TcpDeviceContext,
  exchange: (stream: ByteStream) => Promise<T>,
): Promise<T> {
  let stream: ByteStream;
  try {
    stream = await openTcpStream(address, { clock: ctx.clock, timeoutMs: ctx.commandMs });
  } catch (error) {
    throw new InfrastructureError(`${ctx.owner}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await exchange(stream);
  } catch (error) {
    if (error instanceof InfrastructureError && error.message.startsWith(ctx.owner)) throw error;
    throw new InfrastructureError(`${ctx.owner}: tcp ${address}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await stream.close();
  }
}
