import { Injectable } from '@nestjs/common';

/**
 * Whether this node is draining (SIGTERM received): readiness then answers 503 at once, while requests
 * that still reach the node (on connections it had accepted) are served normally, with
 * `Connection: close`, so the balancer takes the node out without a request being refused.
 */
@Injectable()
export class ShutdownState {
  draining = false;
}
