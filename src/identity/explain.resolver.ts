import { Args, Query, Resolver } from '@nestjs/graphql';
import { ADMIN_ROLE, RequireRoles } from 'src/common/decorators/roles.decorator';
import { ExplainTokenArgs } from 'src/identity/dto/explain-token.args';
import { ExplainService } from 'src/identity/explain.service';
import {
  type ExplainOutcomeEnum,
  TokenExplanation,
} from 'src/identity/models/token-explanation.model';

/** "Why was this token rejected?" for admins (issue 4 §4). */
@Resolver(() => TokenExplanation)
@RequireRoles(ADMIN_ROLE)
export class ExplainResolver {
  constructor(private readonly service: ExplainService) {}

  @Query(() => TokenExplanation, {
    description:
      'Runs a token through validation and resolution and reports every step (ADMIN). Read-only: ' +
      'no actor is created, no membership linked, no userinfo endpoint called.',
  })
  async explainToken(@Args() { token }: ExplainTokenArgs): Promise<TokenExplanation> {
    const e = await this.service.explain(token);
    return {
      ...e,
      steps: e.steps.map((s) => ({ ...s, outcome: s.outcome as ExplainOutcomeEnum })),
    };
  }
}
